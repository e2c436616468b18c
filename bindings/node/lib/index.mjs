// @spikard/node as an ES module: the CommonJS build re-exported.
import cjs from './index.js';

export const {
  ErrorResponse,
  FileResponse,
  HttpException,
  ListenError,
  ProblemError,
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
} = cjs;
export default cjs;
