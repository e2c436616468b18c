package main

import (
	"context"
	"errors"
	"io"

	"github.com/cloudwego/hertz/pkg/app"
)

// uploadAnswer is what the multipart workloads answer: the upload's file
// name and the number of bytes read from it.
type uploadAnswer struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
}

// upload reads the multipart body's "file" part to its end, as the Python
// apps do (len(await file.read())), rather than trusting a declared size.
func upload(_ context.Context, c *app.RequestContext) {
	fh, err := c.FormFile("file")
	if err == nil && fh == nil {
		err = errors.New("file: required")
	}
	if err != nil {
		problem(c, err)
		return
	}
	file, err := fh.Open()
	if err != nil {
		problem(c, err)
		return
	}
	defer file.Close()
	n, err := io.Copy(io.Discard, file)
	if err != nil {
		problem(c, err)
		return
	}
	respond(c, &uploadAnswer{Filename: fh.Filename, Size: n})
}
