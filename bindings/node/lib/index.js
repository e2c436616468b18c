'use strict';
// @spikard/node: the public names. Everything else in lib/ is private.

const { Spikard } = require('./app');
const { FileResponse, HttpException, ProblemError, Response } = require('./response');
const { ErrorResponse } = require('./hooks');
const { DependencyError, Provide } = require('./di');
const { Request } = require('./request');
const { Router } = require('./router');
const { SseEvent, StreamingResponse } = require('./streaming');
const { TestClient, TestResponse } = require('./testclient');
const { UploadFile } = require('./upload');
const { ListenError } = require('./culprit');
const { WebSocket, WebSocketDisconnect } = require('./websocket');

module.exports = {
  DependencyError,
  ErrorResponse,
  FileResponse,
  HttpException,
  ListenError,
  ProblemError,
  Provide,
  Request,
  Response,
  Router,
  Spikard,
  SseEvent,
  StreamingResponse,
  TestClient,
  TestResponse,
  UploadFile,
  WebSocket,
  WebSocketDisconnect,
};
