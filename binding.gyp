{
  "targets": [
    {
      "target_name": "xfc_walker",
      "sources": ["native/addon.c", "native/account.c", "native/dirs.c", "native/scheduler.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
