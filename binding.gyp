{
  "targets": [
    {
      "target_name": "copy_range",
      "sources": ["native/copy_range.c"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
