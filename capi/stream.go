package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"slices"
	"sync"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// streamScratch recycles the Go-side chunk and result slices of a
// spikard_stream_write call.
type streamScratch struct {
	chunks  []core.Chunk
	results []error
}

var streamScratchPool = sync.Pool{New: func() any { return new(streamScratch) }}

//export spikard_stream_write
func spikard_stream_write(outResults *C.int, p *C.spikard_app, chunks *C.spikard_cchunk, count, chunkSize C.size_t, timeoutMS C.int) (rc C.int) {
	results := resultsOf(outResults, count)
	a := appOf(p)
	if a == nil {
		return failAll(results, rcInvalid, "spikard_stream_write: app is NULL")
	}
	defer rescue("spikard_stream_write", &rc)
	b := recordBatch{"stream write", "chunk", unsafe.Pointer(chunks), count, chunkSize, unsafe.Sizeof(C.spikard_chunk{})}
	if rc := b.check(results); rc != rcOK || count == 0 {
		return rc
	}
	sc := streamScratchPool.Get().(*streamScratch)
	defer streamScratchPool.Put(sc)
	sc.chunks = sc.chunks[:0]
	n := int(count)
	sc.results = slices.Grow(sc.results[:0], n)[:n]
	clear(sc.results)
	refused := false
	for i := 0; i < n; i++ {
		c := (*C.spikard_chunk)(unsafe.Add(unsafe.Pointer(chunks), uintptr(i)*uintptr(chunkSize)))
		ch, err := toChunk(c)
		if err != nil {
			sc.results[i] = err
			refused = true
		}
		sc.chunks = append(sc.chunks, ch)
	}
	// Chunks refused here reach core as nothing to write (exchange 0), so
	// that core still sees the batch in order; their results stay ours.
	var ours []error
	if refused {
		ours = slices.Clone(sc.results)
	}
	_ = a.core.StreamWrite(sc.chunks, sc.results, timeoutOf(timeoutMS))
	for i, err := range ours {
		if err != nil {
			sc.results[i] = err
		}
	}
	rc = rcOK
	for i := 0; i < n; i++ {
		code := chunkCode(sc.results[i])
		if results != nil {
			results[i] = code
		}
		if code != rcOK && rc == rcOK {
			rc = fail(code, "stream write: chunk %d (exchange %d): %v", i, sc.chunks[i].Exchange, sc.results[i])
		}
	}
	clear(sc.chunks)
	clear(sc.results)
	return rc
}

// knownChunkFlags are the SPIKARD_CHUNK_* bits this library knows.
const knownChunkFlags = C.SPIKARD_CHUNK_END | C.SPIKARD_CHUNK_ABORT | C.SPIKARD_CHUNK_WS_BINARY | C.SPIKARD_CHUNK_WS_CLOSE

// toChunk converts c, refusing what this library does not know; core
// judges which flags and codes go together.
func toChunk(c *C.spikard_chunk) (core.Chunk, error) {
	if unknown := c.flags &^ knownChunkFlags; unknown != 0 {
		return core.Chunk{}, unsupportedError("chunk flags are not known to this library")
	}
	data, ok1 := cbytes(c.data)
	event, ok2 := cbytes(c.event)
	id, ok3 := cbytes(c.id)
	if !ok1 || !ok2 || !ok3 {
		return core.Chunk{}, invalidError("a chunk's data, event or id is NULL with a length")
	}
	return core.Chunk{Exchange: uint64(c.exchange), Flags: uint32(c.flags), Code: uint32(c.code), Data: data, Event: event, ID: id, RetryMS: uint32(c.retry_ms)}, nil
}

// chunkCode is a chunk result's code.
func chunkCode(err error) C.int {
	var unsupported unsupportedError
	var invalid invalidError
	switch {
	case err == nil:
		return rcOK
	case errors.Is(err, core.ErrAgain), errors.Is(err, core.ErrUnknownExchange):
		return codeOf(err, rcInternal)
	case errors.As(err, &unsupported), errors.Is(err, core.ErrUnsupported):
		return rcUnsupported
	case errors.As(err, &invalid):
		return rcInvalid
	}
	return rcInvalid // core refused the chunk
}
