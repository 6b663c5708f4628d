# ctest driver of the notebook pipeline (python-free): runs the program, checks the structure of its
# output (sections in order) and, through its --json file and string(JSON), that the metrics are in
# sane ranges. Registered by examples/CMakeLists.txt.
#
#   cmake -DMODE=ml100k|synthetic|offline|fetch -DPROGRAM=<notebook_pipeline> -DWORKDIR=<scratch dir>
#         [-DDATA=<ml-100k dir>] [-DFETCH_SCRIPT=<cmake/fetch_movielens.cmake>] -P check_pipeline.cmake
#
#   ml100k     the pipeline on the real MovieLens 100K with reduced epochs (5 autoencoder, 3 NCF)
#   synthetic  --data synthetic, 2 + 2 epochs: the no-download path
#   offline    no --data and no local copy, the download address unreachable: must fail, say how to
#              point at a local copy and mention --data synthetic, and leave no partial archive
#   fetch      the fetch script alone on a local file:// archive built from DATA: extracts it when the
#              MD5 matches; refuses (and deletes) an archive whose MD5 is wrong
cmake_minimum_required(VERSION 3.19)  # string(JSON)

foreach(v MODE WORKDIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_pipeline: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORKDIR}")
file(MAKE_DIRECTORY "${WORKDIR}")

# Fails unless every regex of the list matches `text`, in order (each after the previous match).
function(expect_in_order text)
  set(rest "${text}")
  foreach(re IN LISTS ARGN)
    string(REGEX MATCH "${re}" m "${rest}")
    if(m STREQUAL "")
      message(FATAL_ERROR "check_pipeline: expected output matching '${re}' (in this order) not found. Output:\n${text}")
    endif()
    string(FIND "${rest}" "${m}" pos)
    string(LENGTH "${m}" len)
    math(EXPR pos "${pos} + ${len}")
    string(SUBSTRING "${rest}" ${pos} -1 rest)
  endforeach()
endfunction()

# Fails unless the JSON number at the path (keys...) is within [lo, hi].
function(expect_range json lo hi)
  string(JSON v ERROR_VARIABLE err GET "${json}" ${ARGN})
  if(err)
    message(FATAL_ERROR "check_pipeline: JSON ${ARGN}: ${err}")
  endif()
  if(NOT v MATCHES "^-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?$" OR v LESS lo OR v GREATER hi)
    message(FATAL_ERROR "check_pipeline: JSON ${ARGN} = ${v}, expected within [${lo}, ${hi}]")
  endif()
  message(STATUS "ok: ${ARGN} = ${v} in [${lo}, ${hi}]")
endfunction()

function(expect_length json n)
  string(JSON len ERROR_VARIABLE err LENGTH "${json}" ${ARGN})
  if(err OR NOT len EQUAL n)
    message(FATAL_ERROR "check_pipeline: JSON ${ARGN} has length '${len}' ${err}, expected ${n}")
  endif()
endfunction()

function(run_pipeline out_var rc_var)
  execute_process(COMMAND "${PROGRAM}" ${ARGN} WORKING_DIRECTORY "${WORKDIR}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}${err}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

# The sections every successful run prints, in the notebook's order.
set(sections
  "== 1\\. Ratings" "ratings shape: \\([0-9]+, [34]\\)" "user_id +item_id +rating +timestamp"
  "== 2\\. Users and items" "users: [0-9]+, items: [0-9]+"
  "== 3\\. Split" "train ratings: [0-9]+, test ratings: [0-9]+" "users with held-out ratings: [0-9]+"
  "baselines \\(fitted on train\\): global mean RMSE [0-9.]+, user\\+item bias RMSE [0-9.]+"
  "== 4\\. Autoencoder" "== 5\\. Autoencoder training" "autoencoder epoch +1  loss [0-9.]+"
  "autoencoder RMSE, leak-free[^\n]*[0-9]\\.[0-9]+" "autoencoder RMSE, LEAKY[^\n]*[0-9]\\.[0-9]+"
  "top-10 for user index 0[^\n]*autoencoder" " 10\\. [^\n]+ +-?[0-9]+\\.[0-9]+"
  "== 6\\. Neural CF" "== 7\\. Neural CF training" "neural_cf epoch +1  loss [0-9.]+  val_loss [0-9.]+"
  "== 8\\. Neural CF evaluation" "neural_cf RMSE: [0-9.]+" "top-10 for user index 0[^\n]*neural CF"
  " 10\\. [^\n]+ +-?[0-9]+\\.[0-9]+"
  "== 9\\. Summary" "model +RMSE +MAE +P@10 +R@10 +NDCG@10" "global mean +[0-9.]+ +[0-9.]+ +- +- +-"
  "user\\+item bias( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)" "most popular +- +-( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)" "autoencoder \\(leak-free\\)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)"
  "autoencoder \\(LEAKY, notebook\\) +[0-9.]+ +[0-9.]+ +- +- +-" "neural CF \\(MLP\\)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)( +[0-9.]+)"
  "wall time: load \\+ split [0-9.]+ s[^\n]*total [0-9.]+ s")

if(MODE STREQUAL "ml100k" OR MODE STREQUAL "synthetic")
  if(MODE STREQUAL "ml100k")
    set(data_arg "${DATA}")
    set(ae_epochs 5)
    set(ncf_epochs 3)
  else()
    set(data_arg synthetic)
    set(ae_epochs 2)
    set(ncf_epochs 2)
  endif()
  run_pipeline(out rc --data "${data_arg}" --epochs-ae ${ae_epochs} --epochs-ncf ${ncf_epochs} --quiet
               --json "${WORKDIR}/pipeline.json")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_pipeline: the pipeline exited with ${rc}:\n${out}")
  endif()
  expect_in_order("${out}" ${sections})
  if(out MATCHES "\\[(autoencoder|neural_cf)\\] Epoch")
    message(FATAL_ERROR "check_pipeline: --quiet printed progress lines:\n${out}")
  endif()

  file(READ "${WORKDIR}/pipeline.json" j)
  expect_length("${j}" ${ae_epochs} autoencoder history epochs)
  expect_length("${j}" ${ncf_epochs} neural_cf history epochs)
  expect_length("${j}" 10 autoencoder top10_user0)
  expect_length("${j}" 10 neural_cf top10_user0)
  expect_range("${j}" 0 1e9 neural_cf history epochs 0 metrics val_loss)
  foreach(m precision@10 recall@10 ndcg@10)
    foreach(model autoencoder neural_cf)
      expect_range("${j}" 0 1 ${model} ranking ${m})
    endforeach()
    expect_range("${j}" 0 1 baselines most_popular ranking ${m})
    expect_range("${j}" 0 1 baselines bias ranking ${m})
  endforeach()

  if(MODE STREQUAL "ml100k")
    # The data and the notebook's split sizes, exactly.
    expect_range("${j}" 100000 100000 data ratings)
    expect_range("${j}" 943 943 data users)
    expect_range("${j}" 1682 1682 data items)
    expect_range("${j}" 19633 19633 data test)
    # Sane ranges (docs: full-length runs give bias 0.943, autoencoder 1.02 leak-free, NCF 0.94).
    expect_range("${j}" 1.08 1.16 baselines global_mean rmse)
    expect_range("${j}" 0.90 0.98 baselines bias rating rmse)
    expect_range("${j}" 0.85 1.25 autoencoder rating rmse)
    expect_range("${j}" 0.85 1.60 autoencoder rating_leaky_notebook_protocol rmse)
    expect_range("${j}" 0.88 1.05 neural_cf rating rmse)
    expect_range("${j}" 0.10 0.16 baselines most_popular ranking precision@10)
    expect_range("${j}" 900 943 ranking_protocol users)
    # Training makes progress.
    string(JSON first GET "${j}" autoencoder history epochs 0 loss)
    math(EXPR last_ae "${ae_epochs} - 1")
    string(JSON last GET "${j}" autoencoder history epochs ${last_ae} loss)
    if(NOT last LESS first)
      message(FATAL_ERROR "check_pipeline: the autoencoder loss did not decrease (${first} -> ${last})")
    endif()
  else()
    expect_range("${j}" 0.3 2.0 autoencoder rating rmse)
    expect_range("${j}" 0.3 2.0 neural_cf rating rmse)
    expect_range("${j}" 0.3 2.0 baselines bias rating rmse)
  endif()

elseif(MODE STREQUAL "offline")
  # WORKDIR/a/b: no ./data/ml-100k, ../shared/data/ml-100k or ../../shared/data/ml-100k there.
  set(WORKDIR "${WORKDIR}/a/b")
  file(MAKE_DIRECTORY "${WORKDIR}")
  set(ENV{CFNET_ML100K_URL} "http://127.0.0.1:9/ml-100k.zip")
  run_pipeline(out rc --epochs-ae 1 --epochs-ncf 1 --quiet)
  if(rc EQUAL 0)
    message(FATAL_ERROR "check_pipeline: the pipeline succeeded without data or network:\n${out}")
  endif()
  expect_in_order("${out}" "fetching it with" "fetch_movielens\\.cmake" "could[ \n]+not[ \n]+download"
                  "could not fetch MovieLens 100K" "--data /path/to/ml-100k" "\\./data/ml-100k/u\\.data"
                  "--data synthetic' runs the whole pipeline")
  if(EXISTS "${WORKDIR}/data/ml-100k.zip" OR EXISTS "${WORKDIR}/data/ml-100k.zip.part")
    message(FATAL_ERROR "check_pipeline: a partial download was left in ${WORKDIR}/data")
  endif()
  message(STATUS "ok: offline run failed with exit code ${rc} and the instructions")

elseif(MODE STREQUAL "fetch")
  # A small archive with MovieLens' layout (ml-100k/u.data, u.item) from the local copy.
  file(MAKE_DIRECTORY "${WORKDIR}/src/ml-100k")
  file(COPY "${DATA}/u.data" "${DATA}/u.item" DESTINATION "${WORKDIR}/src/ml-100k")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar cf "${WORKDIR}/ml-100k.zip" --format=zip ml-100k
                  WORKING_DIRECTORY "${WORKDIR}/src" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_pipeline: could not build the test archive")
  endif()
  file(MD5 "${WORKDIR}/ml-100k.zip" md5)
  execute_process(COMMAND "${CMAKE_COMMAND}" -DDEST=${WORKDIR}/good -DURL=file://${WORKDIR}/ml-100k.zip -DMD5=${md5}
                          -P "${FETCH_SCRIPT}" OUTPUT_VARIABLE o ERROR_VARIABLE e RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${WORKDIR}/good/ml-100k/u.data")
    message(FATAL_ERROR "check_pipeline: the fetch of a good archive failed (${rc}):\n${o}${e}")
  endif()
  file(SIZE "${WORKDIR}/good/ml-100k/u.data" got)
  file(SIZE "${DATA}/u.data" want)
  if(NOT got EQUAL want)
    message(FATAL_ERROR "check_pipeline: extracted u.data has ${got} bytes, expected ${want}")
  endif()
  # The official checksum does not match this archive: refused, deleted, nothing extracted.
  execute_process(COMMAND "${CMAKE_COMMAND}" -DDEST=${WORKDIR}/bad -DURL=file://${WORKDIR}/ml-100k.zip
                          -P "${FETCH_SCRIPT}" OUTPUT_VARIABLE o ERROR_VARIABLE e RESULT_VARIABLE rc)
  if(rc EQUAL 0 OR EXISTS "${WORKDIR}/bad/ml-100k/u.data" OR EXISTS "${WORKDIR}/bad/ml-100k.zip"
     OR EXISTS "${WORKDIR}/bad/ml-100k.zip.part")
    message(FATAL_ERROR "check_pipeline: an archive with the wrong MD5 was accepted (${rc}):\n${o}${e}")
  endif()
    # (CMake wraps message() text: any run of blanks may be a line break)
  expect_in_order("${o}${e}" "has[ \n]+MD5[ \n]+${md5},[ \n]+expected[ \n]+0e33842e24a9c977be4e0107933c0723"
                  "refusing[ \n]+to[ \n]+use[ \n]+it")
  message(STATUS "ok: good archive extracted, wrong checksum refused")

else()
  message(FATAL_ERROR "check_pipeline: unknown MODE '${MODE}'")
endif()
