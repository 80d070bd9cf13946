# cmake -DEXECUTABLE=... -DLIB_DIR=... [-DWITHOUT_CUDA_LIBS=ON] -P copy_runtime_deps.cmake
# Copies every shared library EXECUTABLE needs, except the glibc family and the NVIDIA driver's own
# libraries (which must come from the machine it runs on), into LIB_DIR. cuDNN loads its sub-libraries
# (libcudnn_cnn, libcudnn_engines_*, ...) with dlopen, so they are copied beside libcudnn too.
# WITHOUT_CUDA_LIBS: leave out cuBLAS(Lt) and cuDNN (about 1 GB) as well, for GPU machines that have
# them (CUDA toolkit, or PyTorch's nvidia-* wheels: put their lib folders on LD_LIBRARY_PATH).
set(extra_excludes)
if(WITHOUT_CUDA_LIBS)
  set(extra_excludes "^libcublas" "^libcudnn")
endif()
file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES ${EXECUTABLE}
  RESOLVED_DEPENDENCIES_VAR resolved
  UNRESOLVED_DEPENDENCIES_VAR unresolved
  PRE_EXCLUDE_REGEXES
    "^ld-linux" "^linux-vdso" "^libc\\.so" "^libm\\.so" "^libpthread\\.so" "^libdl\\.so"
    "^librt\\.so" "^libresolv\\.so" "^libutil\\.so" "^libnvidia-ml\\.so" "^libcuda\\.so"
    ${extra_excludes})
if(unresolved)
  message(FATAL_ERROR "unresolved libraries for ${EXECUTABLE}: ${unresolved}")
endif()
file(MAKE_DIRECTORY ${LIB_DIR})
foreach(lib IN LISTS resolved)
  file(COPY ${lib} DESTINATION ${LIB_DIR} FOLLOW_SYMLINK_CHAIN)
  get_filename_component(name ${lib} NAME)
  if(name MATCHES "^libcudnn\\.so")
    get_filename_component(dir ${lib} DIRECTORY)
    file(GLOB parts ${dir}/libcudnn_*.so.*)
    foreach(part IN LISTS parts)
      file(COPY ${part} DESTINATION ${LIB_DIR} FOLLOW_SYMLINK_CHAIN)
    endforeach()
  endif()
endforeach()
list(LENGTH resolved count)
message(STATUS "bundled ${count} shared libraries into ${LIB_DIR}")
