# Which tests/unit/test_*.c run on the emulated targets: the pure-C ones.
# A test qualifies when every #include is a header of the project's test,
# core, simulator or crypto-backend folders (FOTA_TARGET_HEADER_DIRS) or one of the C
# library headers below; a test that includes anything else (POSIX, sockets,
# mbedTLS) is host only. The test support code is picked the same way: the
# pure-C files of tests/support/ and the RAM-backed NOR flash simulator and
# simulated bootloader of sim/ (they run on the targets too). Shared by
# tests/target/CMakeLists.txt (which registers the ctest tests) and
# targets/CMakeLists.txt (which builds them), so both agree.
set(FOTA_TARGET_ALLOWED_SYSTEM_HEADERS
  stdio.h string.h stdint.h stddef.h stdbool.h stdarg.h inttypes.h limits.h
  stdlib.h assert.h ctype.h setjmp.h
  bearssl.h) # built for the targets too (tests/support/test_release.c signs with it)
set(FOTA_TARGET_HEADER_DIRS tests tests/support src sim ports/crypto)

# fota_target_pure_c(<root> <out-list-of-paths> <out-list-of-excluded-messages> <glob>...)
function(fota_target_pure_c root out_tests out_excluded)
  set(candidates)
  foreach(pattern ${ARGN})
    file(GLOB found ${root}/${pattern})
    list(APPEND candidates ${found})
  endforeach()
  list(SORT candidates)
  set(tests)
  set(excluded)
  foreach(src ${candidates})
    get_filename_component(name ${src} NAME)
    file(STRINGS ${src} includes REGEX "^[ \t]*#[ \t]*include")
    set(reason "")
    foreach(line ${includes})
      if(line MATCHES "<([^>]+)>")
        set(h ${CMAKE_MATCH_1})
        if(NOT h IN_LIST FOTA_TARGET_ALLOWED_SYSTEM_HEADERS)
          set(reason "includes <${h}>")
          break()
        endif()
      elseif(line MATCHES "\"([^\"]+)\"")
        set(h ${CMAKE_MATCH_1})
        set(known FALSE)
        foreach(dir ${FOTA_TARGET_HEADER_DIRS})
          if(EXISTS ${root}/${dir}/${h})
            set(known TRUE)
          endif()
        endforeach()
        if(NOT known)
          set(reason "includes \"${h}\"")
          break()
        endif()
      endif()
    endforeach()
    if(reason STREQUAL "")
      list(APPEND tests ${src})
    else()
      list(APPEND excluded "${name} (${reason})")
    endif()
  endforeach()
  set(${out_tests} ${tests} PARENT_SCOPE)
  set(${out_excluded} ${excluded} PARENT_SCOPE)
endfunction()

function(fota_target_unit_tests root out_tests out_excluded)
  fota_target_pure_c(${root} tests excluded tests/unit/test_*.c)
  set(${out_tests} ${tests} PARENT_SCOPE)
  set(${out_excluded} ${excluded} PARENT_SCOPE)
endfunction()

function(fota_target_support_sources root out_sources out_excluded)
  fota_target_pure_c(${root} sources excluded tests/support/*.c sim/flash.c sim/boot.c)
  set(${out_sources} ${sources} PARENT_SCOPE)
  set(${out_excluded} ${excluded} PARENT_SCOPE)
endfunction()
