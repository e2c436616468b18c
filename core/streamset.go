package core

import "sync"

// The streams an app is writing, so that Shutdown can end them (ADR 0002
// §3.3): SSE streams at once, since their clients reconnect by design;
// raw streams and WRITTEN answers at the deadline, since a truncated
// download must not look complete. Each gets EventDisconnect GoneStopping
// before the lanes close.

// streamSet is an app's streams and WRITTEN answers being written, so that
// Shutdown can end them. Safe for concurrent use.
type streamSet struct {
	mu       sync.Mutex
	m        map[*stream]struct{}
	stopping bool // Shutdown has begun: SSE streams end as they open
	forced   bool // the shutdown deadline passed: every answer ends as it opens
}

// add registers st, just made; a stream opened while the app stops meets
// the rule at once.
func (s *streamSet) add(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[*stream]struct{}{}
	}
	s.m[st] = struct{}{}
	switch {
	case s.forced:
		st.force()
	case s.stopping:
		st.stop()
	}
}

func (s *streamSet) remove(st *stream) {
	s.mu.Lock()
	delete(s.m, st)
	s.mu.Unlock()
}

// stop ends the open SSE streams: each gets EventDisconnect GoneStopping
// now, and its writer flushes what is queued and terminates it.
func (s *streamSet) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for st := range s.m {
		st.stop()
	}
}

// force ends every answer still being written at the shutdown deadline:
// each not over yet gets EventDisconnect GoneStopping, and its connection
// is closed.
func (s *streamSet) force() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = true
	for st := range s.m {
		st.force()
	}
}

func (st *stream) stop() {
	st.mu.Lock()
	if st.sse && st.phase == phaseOpen {
		st.stopped = true
		st.endLocked(EventDisconnect, GoneStopping)
	}
	st.mu.Unlock()
}

func (st *stream) force() {
	st.mu.Lock()
	st.abortLocked(GoneStopping)
	st.mu.Unlock()
}
