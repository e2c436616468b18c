// @spikard/node as an ES module: the CommonJS build re-exported.
import cjs from './index.js';

export const {
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
} = cjs;
export default cjs;
