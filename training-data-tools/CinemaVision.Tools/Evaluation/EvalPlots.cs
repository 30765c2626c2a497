using CinemaVision.Core.Evaluation;
using ScottPlot;

namespace CinemaVision.Tools.Evaluation;

/// <summary>The PNG charts of <c>cvtools eval</c>: precision-recall curves (IoU 0.5) and AP/recall per label size, one series per configuration.</summary>
internal static class EvalPlots
{
    public static void PrecisionRecall(string path, IReadOnlyList<(string Name, AveragePrecisionResult Ap)> results)
    {
        var plot = new Plot();
        var recall = AveragePrecisionResult.RecallPoints.ToArray();
        foreach (var (name, ap) in results)
        {
            var line = plot.Add.Scatter(recall, ap.PrecisionAtRecall50.ToArray());
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = FormattableString.Invariant($"{name} (AP50 {ap.Ap50 ?? 0:0.000}, AP {ap.Ap50To95 ?? 0:0.000})");
        }

        plot.Title("Precision-recall (IoU 0.5, COCO 101-point interpolation)");
        plot.XLabel("recall");
        plot.YLabel("precision");
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 900, 600);
    }

    public static void Sizes(string path, IReadOnlyList<(string Name, AveragePrecisionResult Ap)> results)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var ranges = SizeRange.Coco.Select(r => r.Name).ToArray();
        double width = 0.8 / Math.Max(1, results.Count);
        var bars = new List<Bar>();
        for (int c = 0; c < results.Count; c++)
        {
            var color = palette.GetColor(c);
            for (int r = 0; r < ranges.Length; r++)
            {
                var size = results[c].Ap.Sizes[r];
                bars.Add(new Bar
                {
                    Position = r - 0.4 + (width * (c + 0.5)),
                    Value = size.Ap50 ?? 0,
                    Size = width * 0.9,
                    FillColor = color,
                    Label = size.Labels == 0 ? "no labels" : FormattableString.Invariant($"{size.Ap50 ?? 0:0.00}"),
                });
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = results[c].Name, FillColor = color });
        }

        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 11;
        var labels = ranges.Select((r, i) => $"{r} ({(results.Count > 0 ? results[0].Ap.Sizes[i].Labels : 0)} labels)").ToArray();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, ranges.Length).Select(i => (double)i).ToArray(), labels);
        plot.Title("AP50 by label size (COCO areas: small < 32², medium < 96², large)");
        plot.YLabel("AP at IoU 0.5");
        plot.Axes.SetLimits(-0.6, ranges.Length - 0.4, 0, 1.1);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 900, 600);
    }
}
