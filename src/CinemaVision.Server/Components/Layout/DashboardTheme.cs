using MudBlazor;

namespace CinemaVision.Server.Components.Layout;

/// <summary>The dashboard's colours and type: a dark cinema app bar, calm light pages, indigo for data, amber for attention.</summary>
public static class DashboardTheme
{
    private static readonly string[] Font = ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "DejaVu Sans", "sans-serif"];

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#4F46E5",
            Secondary = "#F59E0B",
            Tertiary = "#0EA5E9",
            Info = "#3B82F6",
            Success = "#059669",
            Warning = "#D97706",
            Error = "#DC2626",
            AppbarBackground = "#12142B",
            AppbarText = "#FFFFFF",
            Background = "#F4F5FA",
            Surface = "#FFFFFF",
            DrawerBackground = "#FFFFFF",
            DrawerText = "#374151",
            DrawerIcon = "#6B7280",
            TextPrimary = "#111827",
            TextSecondary = "#6B7280",
            LinesDefault = "#E5E7EB",
            TableLines = "#EEF0F4",
            TableHover = "#F5F7FF",
            Divider = "#E5E7EB",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = Font, FontSize = ".9rem" },
            H5 = new H5Typography { FontFamily = Font, FontWeight = "700" },
            H6 = new H6Typography { FontFamily = Font, FontWeight = "650" },
            Button = new ButtonTypography { FontFamily = Font, FontWeight = "600", TextTransform = "none" },
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px", DrawerWidthLeft = "248px", AppbarHeight = "64px" },
    };
}
