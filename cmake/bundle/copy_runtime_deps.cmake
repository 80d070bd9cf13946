# cmake -DEXECUTABLE=... -DLIB_DIR=... -P copy_runtime_deps.cmake
# Copies every shared library EXECUTABLE needs, except the glibc family and the NVIDIA driver's own
# libraries (which must come from the machine it runs on), into LIB_DIR.
file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES ${EXECUTABLE}
  RESOLVED_DEPENDENCIES_VAR resolved
  UNRESOLVED_DEPENDENCIES_VAR unresolved
  PRE_EXCLUDE_REGEXES
    "^ld-linux" "^linux-vdso" "^libc\\.so" "^libm\\.so" "^libpthread\\.so" "^libdl\\.so"
    "^librt\\.so" "^libresolv\\.so" "^libutil\\.so" "^libnvidia-ml\\.so" "^libcuda\\.so")
if(unresolved)
  message(FATAL_ERROR "unresolved libraries for ${EXECUTABLE}: ${unresolved}")
endif()
file(MAKE_DIRECTORY ${LIB_DIR})
foreach(lib IN LISTS resolved)
  file(COPY ${lib} DESTINATION ${LIB_DIR} FOLLOW_SYMLINK_CHAIN)
endforeach()
list(LENGTH resolved count)
message(STATUS "bundled ${count} shared libraries into ${LIB_DIR}")
