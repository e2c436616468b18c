{
  "targets": [
    {
      "target_name": "spikard",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "libraries": ["-L<(module_root_dir)/../../build", "-lspikard"],
      "ldflags": ["-Wl,-rpath,'$$ORIGIN'"]
    }
  ]
}
