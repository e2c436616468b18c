// @spikard/node as an ES module: the CommonJS build re-exported.
import cjs from './index.js';

export const {
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
} = cjs;
export default cjs;
