{
  "targets": [
    {
      "target_name": "xfc_walker",
      "sources": ["lib/walker/native/addon.c", "lib/walker/native/account.c", "lib/walker/native/dirs.c", "lib/walker/native/scheduler.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
