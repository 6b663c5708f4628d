# `mpirun -np NP cfnet train` writes one model file in the single-process format, equal to the
# single-process model up to the summation order, with either decomposition (items, the default;
# users with --decomposition users): `cfnet info` of both prints the same lines
# (the file name and the weights' checksum aside) and `cfnet evaluate` the same RMSE, MAE and
# NDCG@10 to 4 decimals (the models' predictions differ by ~1e-6).
# -DCFNET=<tool> -DMPIEXEC=<mpiexec;flags...> -DNP=<ranks> -DDATA=<ml-100k dir> -DWORK=<dir>
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
string(REPLACE "|" ";" MPIEXEC "${MPIEXEC}")
set(train_args train --model autoencoder --data ${DATA} --split per-user --epochs 2 --batch-size 64 --quiet)

function(run out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

run(one ${CFNET} ${train_args} --out ${WORK}/one.cfnet)
run(many ${MPIEXEC} ${NP} ${CFNET} ${train_args} --out ${WORK}/many.cfnet)
message("${many}")
# 943 training rows in batches of 64: 14 of 64 rows and one of 47 per epoch, 2 x rows x 512 floats
# + 1 double each: 2 x (14 x 262152 + 192520) bytes
if(NOT many MATCHES "ranks: +${NP} ranks \\(MPI\\), partitioned by item, 30 steps, 7725296 bytes allreduced in all")
  message(FATAL_ERROR "the item-partitioned run did not report ${NP} ranks, 30 steps and 7725296 bytes (2 x rows x 512 floats + 1 double per step)")
endif()
run(users ${MPIEXEC} ${NP} ${CFNET} ${train_args} --decomposition users --out ${WORK}/users.cfnet)
message("${users}")
if(NOT users MATCHES "ranks: +${NP} ranks \\(MPI\\), 30 steps, 8082264 bytes allreduced per step \\(\\+21016 once\\)")
  message(FATAL_ERROR "the distributed run did not report ${NP} ranks, 30 steps, 8082264 bytes per step (1025 x 1682 + 296512 floats + 2 doubles) and 21016 bytes once (1682 + 943 int64 counts + 2 doubles)")
endif()
foreach(m one many users)
  run(info_${m} ${CFNET} info ${WORK}/${m}.cfnet)
  string(REGEX REPLACE "file: +[^\n]*\n" "" info_${m} "${info_${m}}")
  string(REGEX REPLACE "checksum: +[^\n]*\n" "" info_${m} "${info_${m}}")
  run(eval_${m} ${CFNET} evaluate --model-file ${WORK}/${m}.cfnet --data ${DATA})
  string(REGEX REPLACE ".*(RMSE: +[0-9.]+).*(MAE: +[0-9.]+).*(NDCG@10: +[0-9.]+).*" "\\1 \\2 \\3" eval_${m} "${eval_${m}}")
endforeach()
foreach(m many users)
  if(NOT info_one STREQUAL info_${m})
    message(FATAL_ERROR "cfnet info differs:\n--- one process\n${info_one}\n--- ${NP} ranks (${m})\n${info_${m}}")
  endif()
  if(NOT eval_one STREQUAL eval_${m})
    message(FATAL_ERROR "cfnet evaluate differs: one process '${eval_one}', ${NP} ranks (${m}) '${eval_${m}}'")
  endif()
endforeach()
message("same file contents (but the weights' checksum) and the same metrics: ${eval_many}")
