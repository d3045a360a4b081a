// copy_range.node: one async call, copyRange(fdIn, fdOut, offIn, offOut, len) -> Promise<bytes copied>,
// which runs the kernel's copy_file_range on libuv's thread pool. Node has no range copy: fs.copyFile copies
// a whole file in one uninterruptible call, so an abort would wait for all of a 20 GB model. Copying in
// bounded chunks through this call lets the caller check its AbortSignal between chunks.
//
// The promise resolves with the bytes copied (fewer than `len` only at the end of the source, or when an
// error came after some bytes were copied: the next call then reports it). It rejects with an Error whose
// `errno` is the negative errno (Node's convention, so util.getSystemErrorName names it); the caller falls
// back to read/write on EXDEV, ENOSYS, EINVAL, EOPNOTSUPP. Off Linux every call rejects with ENOSYS.
// Plain node_api.h, no dependencies.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <unistd.h>
#endif
#include <node_api.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd_in;
  int fd_out;
  int64_t off_in;
  int64_t off_out;
  int64_t len;
  int64_t copied;
  int error;
} CopyJob;

// Runs on a thread-pool thread: no JS values here.
static void execute(napi_env env, void *data) {
  (void)env;
  CopyJob *job = data;
#if defined(__linux__)
  loff_t in = job->off_in;
  loff_t out = job->off_out;
  while (job->copied < job->len) {
    int64_t left = job->len - job->copied;
    // one syscall copies at most ~2 GiB on Linux anyway; ask for at most 1 GiB
    size_t want = left > (1 << 30) ? (size_t)1 << 30 : (size_t)left;
    ssize_t n = copy_file_range(job->fd_in, &in, job->fd_out, &out, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (job->copied == 0) job->error = errno;
      return;
    }
    if (n == 0) return; // end of the source
    job->copied += n;
  }
#else
  job->error = ENOSYS;
#endif
}

// Back on the JS thread: settle the promise and free the job.
static void complete(napi_env env, napi_status status, void *data) {
  CopyJob *job = data;
  if (status != napi_ok && job->error == 0) job->error = ECANCELED;
  if (job->error == 0) {
    napi_value result;
    napi_create_int64(env, job->copied, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error, errnum;
    const char *text = strerror(job->error);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_create_int32(env, -job->error, &errnum);
    napi_set_named_property(env, error, "errno", errnum);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value copy_range(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 5) return throw_type_error(env, "copyRange(fdIn, fdOut, offIn, offOut, len) takes 5 numbers");
  int32_t fd_in, fd_out;
  int64_t off_in, off_out, len;
  if (napi_get_value_int32(env, argv[0], &fd_in) != napi_ok || napi_get_value_int32(env, argv[1], &fd_out) != napi_ok ||
      napi_get_value_int64(env, argv[2], &off_in) != napi_ok || napi_get_value_int64(env, argv[3], &off_out) != napi_ok ||
      napi_get_value_int64(env, argv[4], &len) != napi_ok) {
    return throw_type_error(env, "copyRange(fdIn, fdOut, offIn, offOut, len) takes 5 numbers");
  }
  if (fd_in < 0 || fd_out < 0 || off_in < 0 || off_out < 0 || len < 0) {
    return throw_type_error(env, "copyRange: file descriptors, offsets and length must not be negative");
  }

  CopyJob *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "copyRange: out of memory");
    return NULL;
  }
  job->fd_in = fd_in;
  job->fd_out = fd_out;
  job->off_in = off_in;
  job->off_out = off_out;
  job->len = len;

  napi_value promise, name;
  napi_create_string_utf8(env, "copyRange", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "copyRange: cannot start the copy");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free(job);
    napi_throw_error(env, NULL, "copyRange: cannot queue the copy");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "copyRange", NAPI_AUTO_LENGTH, copy_range, NULL, &fn);
  napi_set_named_property(env, exports, "copyRange", fn);
  return exports;
}
