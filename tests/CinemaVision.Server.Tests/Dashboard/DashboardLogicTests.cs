using System.Globalization;
using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Dashboard.Data;
using CinemaVision.Server.Dashboard.Export;
using CinemaVision.Server.Dashboard.Live;
using CinemaVision.Server.Dashboard.Localization;
using CinemaVision.Server.Showings;
using CinemaVision.Server.Storage;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace CinemaVision.Server.Tests.Dashboard;

/// <summary>What the dashboard relies on underneath its pages: texts, exports, accounts, imports and the live view.</summary>
public sealed class DashboardLogicTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cv-dash-").FullName;

    [Theory]
    [InlineData(null, null, null, "none")]
    [InlineData("2", null, null, "waiting")]
    [InlineData("2", "2", "staged", "waiting")]
    [InlineData("2", "2", "running", "running")]
    [InlineData("2", "1", "running", "differs")]
    [InlineData("2", "1", "rolled-back", "problem")]
    [InlineData("2", "2", "failed", "problem")]
    [InlineData(null, "1", "running", "builtIn")]
    public void ModelsPage_AssignedAgainstReported_SaysWhereTheRollOutIs(string? assigned, string? reported, string? state, string expected)
    {
        var at = DateTimeOffset.UnixEpoch;
        var model = new CinemaVision.Server.Models.AuditoriumModel(
            "hall-1",
            assigned is null ? null : new CinemaVision.Server.Models.ModelAssignment("heads", assigned, "sha", "admin", at),
            reported is null ? null : new CinemaVision.Server.Models.ModelRunReport("edge-1", "heads", reported, state!, null, at));

        Assert.Equal(expected, CinemaVision.Server.Components.Pages.Models.Agreement(model).Key);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Texts_EnglishAndChinese_HaveTheSameKeysAndPlaceholders()
    {
        var text = new DashboardText();
        var en = text.All(DashboardText.English);
        var zh = text.All(DashboardText.Chinese);

        Assert.Empty(en.Keys.Except(zh.Keys));
        Assert.Empty(zh.Keys.Except(en.Keys));
        static string Holes(string s) => string.Join(",", System.Text.RegularExpressions.Regex.Matches(s, @"\{\d\}").Select(m => m.Value).Order(StringComparer.Ordinal));
        Assert.All(en, kv => Assert.True(Holes(kv.Value) == Holes(zh[kv.Key]), $"{kv.Key}: '{kv.Value}' vs '{zh[kv.Key]}'"));
        Assert.Equal("总览", text.Get(new CultureInfo("zh-CN"), "nav.overview"));
        Assert.Equal("Overview", text.Get(new CultureInfo("en-GB"), "nav.overview"));
    }

    [Fact]
    public void Export_Csv_QuotesCellsAndDefusesFormulas()
    {
        var table = new ExportTable("t", ["Film", "People", "Share"], [["Dune, Part Two", 42, new ExportPercent(0.5)], ["=HYPERLINK(\"x\")", 7, null]]);

        var csv = Encoding.UTF8.GetString(table.ToCsv());

        Assert.StartsWith("\uFEFFFilm,People,Share\r\n", csv, StringComparison.Ordinal);
        Assert.Contains("\"Dune, Part Two\",42,0.5\r\n", csv, StringComparison.Ordinal);
        Assert.Contains("\"'=HYPERLINK(\"\"x\"\")\",7,\r\n", csv, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_Xlsx_IsAWorkbookWithTypedCells()
    {
        var at = new DateTime(2026, 11, 30, 19, 30, 0);
        var table = new ExportTable("Per showing", ["Start", "Film", "People", "Occupancy"], [[at, "影片 <A&B>", 42, new ExportPercent(0.425)]]);

        using var zip = new ZipArchive(new MemoryStream(table.ToXlsx()));
        var names = zip.Entries.Select(e => e.FullName).ToList();
        using var reader = new StreamReader(zip.GetEntry("xl/worksheets/sheet1.xml")!.Open());
        var sheet = reader.ReadToEnd();

        Assert.Contains("[Content_Types].xml", names);
        Assert.Contains("xl/workbook.xml", names);
        Assert.Contains("xl/styles.xml", names);
        Assert.Contains("<c r=\"C2\"><v>42</v></c>", sheet, StringComparison.Ordinal);
        Assert.Contains($"<c r=\"A2\" s=\"2\"><v>{at.ToOADate().ToString("R", CultureInfo.InvariantCulture)}</v></c>", sheet, StringComparison.Ordinal);
        Assert.Contains("影片 &lt;A&amp;B&gt;", sheet, StringComparison.Ordinal);
        Assert.Contains("<c r=\"D2\" s=\"4\"><v>0.425</v></c>", sheet, StringComparison.Ordinal);
        Assert.Contains("<autoFilter ref=\"A1:D2\"", sheet, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A-E", "A,B,C,D,E")]
    [InlineData("e-a", "E,D,C,B,A")]
    [InlineData("AA, AB ,AC", "AA,AB,AC")]
    [InlineData("K", "K")]
    [InlineData("A-", null)]
    [InlineData("1-9", null)]
    public void SeatMapDraft_RowLabels(string text, string? expected)
    {
        var labels = SeatMapDraft.ParseRowLabels(text);
        Assert.Equal(expected, labels is null ? null : string.Join(",", labels));
    }

    [Fact]
    public void PasswordChange_EndsOtherSessions_KeepsTheReissuedOne()
    {
        var (users, _) = Stores();
        users.Create("ana", "ana-password-123", Roles.Manager);
        var old = UserSessions.Principal(users.Find("ana")!, DateTimeOffset.UtcNow.AddMinutes(-5));

        Assert.Equal(PasswordChangeResult.WrongCurrentPassword, users.ChangePassword("ana", "nope", "ana-password-456"));
        Assert.Equal(PasswordChangeResult.TooShort, users.ChangePassword("ana", "ana-password-123", "short"));
        Assert.Equal(PasswordChangeResult.SameAsCurrent, users.ChangePassword("ana", "ana-password-123", "ana-password-123"));
        Assert.True(UserSessions.IsCurrent(old, users));
        Assert.Equal(PasswordChangeResult.Changed, users.ChangePassword("ana", "ana-password-123", "ana-password-456"));

        var user = users.Find("ana")!;
        Assert.False(UserSessions.IsCurrent(old, users));
        Assert.True(UserSessions.IsCurrent(UserSessions.Principal(user, user.SessionsValidAfter!.Value), users));
        Assert.Null(users.Verify("ana", "ana-password-123"));
        Assert.NotNull(users.Verify("ana", "ana-password-456"));
    }

    [Fact]
    public void DisablingAccounts_EndsTheirSessions_ButNeverTheLastAdministrator()
    {
        var (users, _) = Stores();
        users.Create("root", "root-password-12", Roles.Admin);
        users.Create("sam", "sam-password-123", Roles.Security);
        var session = UserSessions.Principal(users.Find("sam")!, DateTimeOffset.UtcNow);

        Assert.Equal(AccountChangeResult.LastAdministrator, users.SetDisabled("root", true));
        Assert.Equal(AccountChangeResult.Changed, users.SetDisabled("sam", true));
        Assert.False(UserSessions.IsCurrent(session, users));
        Assert.Null(users.Verify("sam", "sam-password-123"));
        Assert.Equal(AccountChangeResult.Changed, users.SetDisabled("sam", false));
        Assert.True(UserSessions.IsCurrent(session, users));
        Assert.Equal(AccountChangeResult.UnknownUser, users.SetDisabled("nobody", true));

        var wrongRole = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "sam"), new Claim(ClaimTypes.Role, Roles.Admin)], "test"));
        Assert.False(UserSessions.IsCurrent(wrongRole, users));
    }

    [Fact]
    public void ScheduleImport_TimesWithoutOffset_AreTheSitesLocalTime()
    {
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        const string Csv = "auditorium,film,start,end,feature_start\nhall-1,Film,2026-12-01T19:30,2026-12-01T22:00,2026-12-01T19:45\nhall-2,Film,2026-12-01T19:30:00Z,2026-12-01T22:00:00Z,2026-12-01T19:45:00Z\n";

        var (showings, problems) = ShowingStore.ParseSchedule(Csv, json: false, shanghai);

        Assert.Empty(problems);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 11, 30, 0, TimeSpan.Zero), showings[0].Start.ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 19, 30, 0, TimeSpan.Zero), showings[1].Start.ToUniversalTime());
    }

    [Fact]
    public void ScheduleImport_ClockSkipsTheTime_NamesLineAndColumn()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        const string Csv = "auditorium,film,start,end,feature_start\nhall-1,Film,2026-03-29T02:30,2026-03-29T05:00,2026-03-29T03:15\n";

        var (_, problems) = ShowingStore.ParseSchedule(Csv, json: false, berlin);

        var problem = Assert.Single(problems);
        Assert.Equal((2, "start"), (problem.Line, problem.Column));
    }

    [Fact]
    public void TicketImport_BadSeatIds_AreReportedByLine_NothingKept()
    {
        var (seats, problems) = ShowingStore.ParseTickets("seat\nA1\nB12; C3\nrow 4\nD4\n", json: false);

        Assert.Equal(["A1", "B12", "C3", "D4"], seats);
        var problem = Assert.Single(problems);
        Assert.Equal(4, problem.Line);
        Assert.Contains("row 4", problem.Message, StringComparison.Ordinal);
        Assert.Single(ShowingStore.ParseTickets("[\"A1\", 7]", json: true).Problems);
    }

    [Fact]
    public async Task LiveUpdates_NewerLiveSampleWins_OverTheSeededOne_AndSubscribersAreTold()
    {
        var store = new SqliteTimeSeriesStore(Path.Combine(_folder, "ts.db"), new Configuration.TimeSeriesOptions());
        var t0 = Samples.RecentMinute();
        await store.WriteAsync(Samples.Batch("edge", "b0", occupancy: [Samples.Occupancy("o0", "site-1", "aud-1", t0, 10)]), CancellationToken.None);
        var live = new LiveUpdates(store, TimeProvider.System, NullLogger<LiveUpdates>.Instance);
        var told = new List<LiveUpdate>();
        using var subscription = live.Subscribe(told.Add);

        await live.OnStoredAsync(Samples.Batch("edge", "b1", occupancy: [Samples.Occupancy("o1", "site-1", "aud-1", t0.AddMinutes(1), 30)]), CancellationToken.None);
        var latest = await live.LatestOccupancyAsync("site-1", CancellationToken.None);
        await live.OnStoredAsync(Samples.Batch("edge", "b2", occupancy: [Samples.Occupancy("o2", "site-1", "aud-1", t0.AddSeconds(30), 20)]), CancellationToken.None);

        Assert.Equal(30, latest["aud-1"].People);
        Assert.Equal(30, (await live.LatestOccupancyAsync("site-1", CancellationToken.None))["aud-1"].People);
        Assert.Equal(2, told.Count);
        Assert.All(told, u => Assert.Equal("site-1", u.SiteId));
        Assert.True(told[0].Touches("aud-1"));
        Assert.False(told[0].Touches("aud-2"));
        store.Dispose();
    }

    private (UserStore Users, AuditLog Audit) Stores()
    {
        var db = new StateDatabase(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, "state.db") }.ToString(), [new UserSchema()]);
        db.EnsureCreated();
        return (new UserStore(db, TimeProvider.System), new AuditLog(db, TimeProvider.System));
    }
}
