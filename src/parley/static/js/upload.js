// File uploads with progress and cancel. State only: knows nothing of the DOM.
// XMLHttpRequest rather than fetch because only XHR reports upload progress.

import { ApiError, csrfTokenNow } from "./api.js";

const UPLOAD_PATH = "/api/files";

/**
 * Start uploading `file`. Returns {promise, abort}: the promise resolves to the
 * server's File object, or rejects with ApiError (code "aborted" after abort()).
 * `onProgress(sent, total)` is called as bytes leave the browser.
 */
export function uploadFile(file, onProgress = () => {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", UPLOAD_PATH);
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    const token = csrfTokenNow();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      const data = xhr.response;
      if (xhr.status === 201 && data && data.file) return resolve(data.file);
      const error = (data && data.error) || {};
      reject(new ApiError(xhr.status, error.code || `http_${xhr.status}`,
        error.message || (xhr.status === 413 ? "The file is too large." : "The upload failed.")));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload failed.")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "Upload cancelled.")));
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image");
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
