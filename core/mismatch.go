package core

import (
	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/route"
)

// answerMismatch answers a path that no route matches but one would if
// its typed placeholders ({id:int}, {id:uuid}) took any segment
// (route.Mismatch): the client meant that route and sent a value its
// placeholder cannot parse, so the answer is the 422 of that parameter,
// as a framework matching {id} and then validating id reports it. When
// the route's own schema accepts the segment after all (it declares the
// parameter a plain string), nothing was wrong with a value and the
// answer stays the 404.
func (a *App) answerMismatch(ex *exchange, res route.Result, path []byte) {
	rt := a.routes[res.Route]
	ex.rt = rt
	ex.path = path
	ex.params, ex.errs = rt.params.Extract(ex.params[:0], ex, &ex.scratch, ex.errs[:0])
	for _, e := range ex.errs {
		if len(e.Loc) > 0 && e.Loc[0] == problem.Key("path") {
			p := problem.Validation(ex.errs)
			ex.out = writeProblem(ex.c, &p, ex.out)
			return
		}
	}
	p := problem.NotFound()
	ex.out = writeProblem(ex.c, &p, ex.out)
}
