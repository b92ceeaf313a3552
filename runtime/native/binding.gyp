{
  "targets": [
    {
      "target_name": "sd_daemon_native",
      "sources": ["src/addon.cc"],
      "include_dirs": ["node-addon-api"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
    }
  ]
}
