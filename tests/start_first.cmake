# The longest tests (measured at -O3 on 2 cores: 13-210 s): `ctest -j2` starts them first, so
# that they run beside the many short ones instead of alone at the end of the run (with no
# timing data from an earlier run, ctest would start them in their registration order, and the
# --scales test alone kept one core busy for the last ~3 minutes). COST orders a parallel run;
# ctest reads this file after the tests it names are registered. A name that matches no test is
# ignored.
set_tests_properties(
  [==[cli: --scales 128,256 logs both sizes and ends at or below the single-scale loss]==]
  PROPERTIES COST 170)
set_tests_properties(
  [==[tiled coarse-to-fine: the small scale runs whole, the large one in tiles, close to the untiled run]==]
  [==[tiled: a tiled run is close to the untiled one and shows no seams]==]
  PROPERTIES COST 40)
set_tests_properties(
  [==[VGG19 input gradient through conv5_1 matches finite differences]==]
  [==[cli: --multiscale above --memory-limit runs the small scale whole, tiles the large one, logs both]==]
  PROPERTIES COST 25)
set_tests_properties(
  [==[tiled: two styles with left and right masks land on their halves]==]
  [==[tiled: white masks change nothing]==]
  [==[size_invariant: the style/content balance at 128 px is that at 512 px]==]
  [==[cli: above --memory-limit, tiling engages by itself with a notice]==]
  PROPERTIES COST 15)
