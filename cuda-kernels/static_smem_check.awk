# Fails the build when an attention entry point (ps_attention_*, ps_pod_*) declares static shared
# memory. Those kernels lay their tiles out in the dynamic buffer from offset 0; a static variable
# is placed first and shifts the buffer, which on the H100 doubled the L2 traffic of the same
# cp.async loads (attention/pod.cu, run()). Reads ptxas -v output: an "Compiling entry function"
# line names the kernel, its "Used ... registers" line ends in ", N bytes smem" when N > 0.
/Compiling entry function/ {
    match($0, /'[^']+'/)
    entry = substr($0, RSTART + 1, RLENGTH - 2)
}
/Used [0-9]+ registers/ && entry ~ /^ps_(attention|pod)_/ && / bytes smem/ {
    print "static shared memory in " entry ": " $0 > "/dev/stderr"
    bad = 1
}
END { exit bad }
