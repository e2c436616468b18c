'use strict';
// @spikard/node: the public names. Everything else in lib/ is private.

const { Spikard } = require('./app');
const { FileResponse, ProblemError, Response } = require('./response');
const { Request } = require('./request');
const { SseEvent, StreamingResponse } = require('./streaming');
const { TestClient, TestResponse } = require('./testclient');
const { UploadFile } = require('./upload');
const { ListenError } = require('./culprit');
const { WebSocket, WebSocketDisconnect } = require('./websocket');

module.exports = {
  FileResponse,
  ListenError,
  ProblemError,
  Request,
  Response,
  Spikard,
  SseEvent,
  StreamingResponse,
  TestClient,
  TestResponse,
  UploadFile,
  WebSocket,
  WebSocketDisconnect,
};
