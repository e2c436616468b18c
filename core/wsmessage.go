package core

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spikard/spikard/core/problem"
)

// maxCloseReason is the longest close reason a close frame carries (RFC
// 6455 5.5: 125 bytes of payload, two of them the code).
const maxCloseReason = 123

// messageReason is the 1007 close reason for a received message that
// fails its route's "message_schema": the first error at its location,
// which starts at "message" (a body's errors start at "body"), as in
// `message.name: Field required`; a message that is not JSON, or nests
// too deeply, says that instead. It never exceeds maxCloseReason bytes and
// never cuts a character in two.
func messageReason(p *problem.Problem) string {
	var b strings.Builder
	if len(p.Errors) == 0 {
		b.WriteString("message: ")
		if p.Detail != "" {
			b.WriteString(p.Detail)
		} else {
			b.WriteString(p.Title)
		}
	} else {
		e := p.Errors[0]
		b.WriteString("message")
		for i, l := range e.Loc {
			switch {
			case i == 0 && !l.IsIndex && l.Key == "body":
			case l.IsIndex:
				b.WriteString("[" + strconv.Itoa(l.Index) + "]")
			default:
				b.WriteString("." + l.Key)
			}
		}
		b.WriteString(": " + e.Msg)
	}
	s := b.String()
	if len(s) <= maxCloseReason {
		return s
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
