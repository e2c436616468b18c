//go:build !linux

package core

import "github.com/cloudwego/hertz/pkg/network"

// sendRoom: elsewhere every frame goes through the writer goroutine.
type sendRoom struct{}

func newSendRoom(network.Conn) sendRoom { return sendRoom{} }

func (*sendRoom) fits(int) bool { return false }

func (*sendRoom) forget() {}
