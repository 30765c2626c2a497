using BenchmarkDotNet.Running;
using CinemaVision.Benchmarks;

if (args.Length > 0 && args[0] == "ingest-load") return await IngestLoad.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "edge-faults") return await EdgeFaults.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "edge-load") return await EdgeLoad.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "dashboard") return await DashboardBenchmark.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(IngestLoad).Assembly).Run(args);
return 0;
