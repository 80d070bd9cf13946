# The migrator adaptation policy: a per-window integer program solved with CBC (through the
# planners' internal MIP helpers, hence the src/ include path).
tessera_library(adapt_migrator SRCS migrator.cc migrator_program.cc migrator_solve.cc DEPS tessera_adapt_core PkgConfig::CBC)
target_include_directories(tessera_adapt_migrator PRIVATE ${PROJECT_SOURCE_DIR}/src)
tessera_test(migrator_test SRCS migrator_test.cc DEPS tessera_adapt_migrator)
