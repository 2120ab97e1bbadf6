# Which tests/unit/test_*.c run on the emulated targets: the pure-C ones.
# A test qualifies when every #include is the harness, a libfota header, a
# header of src/ or one of the freestanding / picolibc headers below; a test
# that includes anything else (POSIX, sockets, mbedTLS, ports/posix) is host
# only. Shared by tests/target/CMakeLists.txt (which registers the ctest
# tests) and targets/CMakeLists.txt (which builds them), so both agree.
set(FOTA_TARGET_ALLOWED_SYSTEM_HEADERS
  stdio.h string.h stdint.h stddef.h stdbool.h stdarg.h inttypes.h limits.h
  stdlib.h assert.h ctype.h)

# fota_target_unit_tests(<root> <out-list-of-paths> <out-list-of-excluded-messages>)
function(fota_target_unit_tests root out_tests out_excluded)
  file(GLOB candidates ${root}/tests/unit/test_*.c)
  list(SORT candidates)
  set(tests)
  set(excluded)
  foreach(src ${candidates})
    get_filename_component(name ${src} NAME_WE)
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
        if(NOT (EXISTS ${root}/tests/${h} OR EXISTS ${root}/include/${h}
                OR EXISTS ${root}/src/${h}))
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
