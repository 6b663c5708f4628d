# `cfnet evaluate` and `cfnet recommend --all-users` under `mpirun -np NP` (and on --threads 2) print
# and write exactly what one process does: the users are split between ranks (and threads), the
# per-user results gathered and reduced in user order, so even the JSON's full-precision numbers
# match. Skipped (ctest SKIP_REGULAR_EXPRESSION "TOOL WITHOUT --threads") when the tool has no
# --threads flag (the two add_*_options lines not yet in tools/cfnet/main.cpp).
# -DCFNET=<tool> -DMPIEXEC=<mpiexec;flags...> -DNP=<ranks> -DDATA=<ml-100k dir> -DWORK=<dir>
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
string(REPLACE "|" ";" MPIEXEC "${MPIEXEC}")

function(run out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

run(help ${CFNET} evaluate --help)
if(NOT help MATCHES "--threads")
  message(FATAL_ERROR "TOOL WITHOUT --threads: tools/cfnet/main.cpp does not call add_evaluate_options")
endif()

run(train ${CFNET} train --model autoencoder --data ${DATA} --split per-user --epochs 1 --batch-size 64 --quiet
    --out ${WORK}/ae.cfnet)
set(eval_args evaluate --model-file ${WORK}/ae.cfnet --data ${DATA})
set(rec_args recommend --model-file ${WORK}/ae.cfnet --data ${DATA} --all-users --k 5)
run(eval_one ${CFNET} ${eval_args} --json ${WORK}/one.json)
run(eval_threads ${CFNET} ${eval_args} --threads 2 --json ${WORK}/threads.json)
run(eval_many ${MPIEXEC} ${NP} ${CFNET} ${eval_args} --threads 2 --json ${WORK}/many.json)
run(rec_one ${CFNET} ${rec_args} --out ${WORK}/one.tsv)
run(rec_threads ${CFNET} ${rec_args} --threads 2 --out ${WORK}/threads.tsv)
run(rec_many ${MPIEXEC} ${NP} ${CFNET} ${rec_args} --out ${WORK}/many.tsv)
if(NOT eval_one MATCHES "NDCG@10: +[0-9.]+")
  message(FATAL_ERROR "cfnet evaluate printed no NDCG@10:\n${eval_one}")
endif()
foreach(v threads many)
  if(NOT eval_one STREQUAL eval_${v})
    message(FATAL_ERROR "cfnet evaluate (${v}) differs from one process:\n--- one\n${eval_one}\n--- ${v}\n${eval_${v}}")
  endif()
  foreach(ext json tsv)
    file(READ ${WORK}/one.${ext} a)
    file(READ ${WORK}/${v}.${ext} b)
    if(NOT a STREQUAL b)
      message(FATAL_ERROR "${WORK}/${v}.${ext} differs from ${WORK}/one.${ext}")
    endif()
  endforeach()
endforeach()
file(STRINGS ${WORK}/one.tsv lines)
list(LENGTH lines n)
if(NOT n EQUAL 4716)  # a header + 943 users x 5
  message(FATAL_ERROR "${WORK}/one.tsv has ${n} lines, expected 4716 (header + 943 users x 5)")
endif()
message("one process, --threads 2 and ${NP} ranks: the same output, JSON and ${n}-line list")
