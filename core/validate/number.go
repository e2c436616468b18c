package validate

import (
	"math/big"
	"strconv"
	"strings"
	"unsafe"
)

// Numbers are compared without allocating in the common cases: a plain
// integer literal that fits int64 is compared as an int64, anything else
// as a float64. Rounding to float64 is monotonic, so floats that differ
// order the exact values the same way; only when they are equal does the
// comparison fall back to exact rational arithmetic, which is what the
// general validator does throughout.

// number is a JSON number literal from the schema or the document.
type number struct {
	raw   string // the literal
	f     float64
	i     int64
	isI64 bool // raw is a plain integer literal that fits int64
	huge  bool // the exponent's magnitude exceeds hugeExp
}

// hugeExp bounds the exponents exact arithmetic is applied to. Beyond it a
// literal is far outside float64's range, and exact arithmetic on it
// would cost time and memory an attacker controls, so the few decisions
// that need exactness are taken by reasoning about signs and digits.
const hugeExp = 1000

func parseNumber(raw string, ni numInfo) number {
	n := number{raw: raw}
	if !ni.frac && !ni.exp {
		if v, err := strconv.ParseInt(raw, 10, 64); err == nil {
			n.i, n.f, n.isI64 = v, float64(v), true
			return n
		}
	}
	n.f, _ = strconv.ParseFloat(raw, 64) // ±Inf on overflow keeps the order
	if ni.exp {
		_, _, exp := digits(raw)
		n.huge = exp > hugeExp || exp < -hugeExp
	}
	return n
}

// bytesString views b as a string without copying. The result must not
// outlive b or be kept after b changes; callers use it only for the
// duration of one validation.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (n number) rat() *big.Rat {
	r, ok := new(big.Rat).SetString(n.raw)
	if !ok {
		return new(big.Rat)
	}
	return r
}

// cmpNumber returns -1, 0 or +1 as a is less than, equal to or greater
// than b, exactly.
func cmpNumber(a, b number) int {
	if a.isI64 && b.isI64 {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	if a.huge || b.huge {
		// Bounds are finite float64 values that are zero only when exactly
		// zero (Compile checks), so a tie with a huge literal is a tie at
		// zero: the signs decide.
		return sign(a.raw) - sign(b.raw)
	}
	return a.rat().Cmp(b.rat())
}

// sign returns -1, 0 or +1 for the literal's exact sign.
func sign(raw string) int {
	nonZero, _, _ := digits(raw)
	switch {
	case !nonZero:
		return 0
	case raw[0] == '-':
		return -1
	}
	return 1
}

// digits scans a valid literal: whether any mantissa digit is non-zero,
// how many digits follow the point, and the exponent (saturated).
func digits(raw string) (nonZero bool, fracLen, exp int) {
	i := 0
	if raw[0] == '-' {
		i++
	}
	inFrac := false
	for ; i < len(raw) && raw[i] != 'e' && raw[i] != 'E'; i++ {
		switch c := raw[i]; {
		case c == '.':
			inFrac = true
			continue
		case c != '0':
			nonZero = true
		}
		if inFrac {
			fracLen++
		}
	}
	if i < len(raw) {
		i++
		neg := false
		if raw[i] == '+' || raw[i] == '-' {
			neg = raw[i] == '-'
			i++
		}
		for ; i < len(raw); i++ {
			if exp < 1<<30 {
				exp = exp*10 + int(raw[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	return nonZero, fracLen, exp
}

// isIntegral reports whether the literal raw (valid JSON) has an integer
// value, as "integer" means in JSON Schema: 1.0 and 1e2 are integers.
func isIntegral(raw string, ni numInfo) bool {
	if !ni.frac && !ni.exp {
		return true
	}
	i := 0
	if raw[0] == '-' {
		i++
	}
	// digits: the integer and fraction digits; fracLen: how many of them
	// follow the point; tz: trailing zeros of the whole digit string.
	digitsNonZero := false
	fracLen, tz := 0, 0
	inFrac := false
	for ; i < len(raw) && raw[i] != 'e' && raw[i] != 'E'; i++ {
		c := raw[i]
		if c == '.' {
			inFrac = true
			continue
		}
		if inFrac {
			fracLen++
		}
		if c == '0' {
			tz++
		} else {
			tz = 0
			digitsNonZero = true
		}
	}
	if !digitsNonZero {
		return true
	}
	exp := 0
	if i < len(raw) {
		i++
		neg := false
		if raw[i] == '+' || raw[i] == '-' {
			neg = raw[i] == '-'
			i++
		}
		for ; i < len(raw); i++ {
			if exp < 1<<30 {
				exp = exp*10 + int(raw[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	// value = D * 10^(exp-fracLen); D has tz trailing zeros.
	return tz+exp-fracLen >= 0
}

// isMultiple reports whether v is an integer multiple of m (m > 0).
func isMultiple(v, m number) bool {
	if v.isI64 && m.isI64 && m.i != 0 {
		return v.i%m.i == 0
	}
	if v.huge {
		return hugeMultiple(v, m)
	}
	q := new(big.Rat).Quo(v.rat(), m.rat())
	return q.IsInt()
}

// hugeMultiple decides isMultiple for a literal D×10^k with |k| beyond
// hugeExp, where m = p/q in lowest terms. For large k, p divides D×q×10^k
// exactly when it divides D×q×10^j for any j at least p's bit length (the
// twos and fives of p are then covered); for very negative k the quotient
// is a non-zero fraction once 10^-k exceeds D×q.
func hugeMultiple(v, m number) bool {
	nonZero, fracLen, exp := digits(v.raw)
	if !nonZero {
		return true
	}
	mr := m.rat()
	mant := v.raw
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		mant = mant[:i]
	}
	d, _ := new(big.Rat).SetString(mant) // D×10^-fracLen
	k := exp
	if k > 0 {
		k = min(k, mr.Num().BitLen()+fracLen+1)
	} else if -k > len(mant)+len(mr.Denom().String())+1 {
		return false
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(k))), nil)
	if k >= 0 {
		d.Mul(d, new(big.Rat).SetInt(scale))
	} else {
		d.Quo(d, new(big.Rat).SetInt(scale))
	}
	return d.Quo(d, mr).IsInt()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
