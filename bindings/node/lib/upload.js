'use strict';
// UploadFile: one file of a multipart/form-data request. The core parses the
// body into a JSON object whose file fields are descriptors
// ({filename, content_type, size, headers, offset, length}) into the raw
// body (the event's attachments); the "uploads" fact names, as JSON
// Pointers, the fields that hold them, so no descriptor is guessed by shape.

class UploadFile {
  constructor(
    data,
    { filename = null, contentType = 'application/octet-stream', headers = {} } = {},
  ) {
    /** The file's bytes (a view into the request body, not a copy). */
    this.data = data;
    /** The part's filename, or null. */
    this.filename = filename;
    /** The part's content type. */
    this.contentType = contentType;
    /** The part's own headers, lower-case names. */
    this.headers = headers;
    /** Size in bytes. */
    this.size = data.length;
  }

  /** The bytes as a string (UTF-8 unless told). */
  text(encoding = 'utf8') {
    return this.data.toString(encoding);
  }
}

function fromDescriptor(d, attachments) {
  const data = attachments.subarray(d.offset, d.offset + d.length);
  return new UploadFile(data, {
    filename: d.filename === undefined ? null : d.filename,
    contentType: d.content_type || 'application/octet-stream',
    headers: d.headers || {},
  });
}

/** Replace, in `body`, the descriptor(s) each JSON Pointer names by UploadFiles. */
function bindUploads(body, pointers, attachments) {
  for (const pointer of pointers) {
    const keys = pointer
      .slice(1)
      .split('/')
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent = body;
    for (const key of keys.slice(0, -1)) parent = parent[Array.isArray(parent) ? Number(key) : key];
    const last = Array.isArray(parent) ? Number(keys[keys.length - 1]) : keys[keys.length - 1];
    const value = parent[last];
    parent[last] = Array.isArray(value)
      ? value.map((d) => fromDescriptor(d, attachments))
      : fromDescriptor(value, attachments);
  }
}

module.exports = { UploadFile, bindUploads };
