-- wrk script (bench/proxy/run.sh TAIL=1): the whole latency distribution of the measured window,
-- one "pct <percentile> <ms>" line each, so a tail can be told from a shifted median.
done = function(summary, latency, requests)
  for _, p in ipairs({50, 75, 90, 95, 97, 98, 99, 99.5, 99.9, 99.99}) do
    io.write(string.format("pct %g %.3f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("pct max %.3f\npct mean %.3f\npct stdev %.3f\n",
    latency.max / 1000, latency.mean / 1000, latency.stdev / 1000))
end
