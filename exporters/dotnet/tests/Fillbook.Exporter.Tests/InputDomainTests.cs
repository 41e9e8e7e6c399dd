using System;
using System.Collections.Generic;
using System.Text;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    /// <summary>Doubles one step either side of a limit.</summary>
    internal static class Doubles
    {
        public static double Above(double value)
        {
            return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(value) + 1);
        }

        public static double Below(double value)
        {
            return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(value) - 1);
        }
    }

    /// <summary>Each limit of the service's input domain, just inside and just outside.</summary>
    [TestFixture]
    public class InputDomainTests
    {
        private static ArgumentOutOfRangeException Refused(string field, TestDelegate call)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.AreEqual(field, error.ParamName);
            return error;
        }

        [Test]
        public void EpochNanosecondsEndBefore2200()
        {
            Assert.AreEqual("7258118399999999999", EventTime.FromEpochNanoseconds(InputDomain.MaxTsNs - 1).ToJson());
            var error = Refused("ts", () => EventTime.FromEpochNanoseconds(InputDomain.MaxTsNs));
            StringAssert.StartsWith(
                "ts must be before 2200-01-01T00:00:00Z (epoch ns 7258118400000000000), got 7258118400000000000",
                error.Message);
            Refused("ts", () => EventTime.FromEpochNanoseconds(long.MaxValue));
        }

        [Test]
        public void EpochNanosecondsStartAt10To17()
        {
            Assert.AreEqual("100000000000000000", EventTime.FromEpochNanoseconds(InputDomain.MinEpochNanoseconds).ToJson());
            var error = Assert.Throws<ArgumentException>(
                () => EventTime.FromEpochNanoseconds(InputDomain.MinEpochNanoseconds - 1));
            StringAssert.StartsWith("epoch nanoseconds must be >= 10^17 (1973-03-03), got 99999999999999999", error.Message);
        }

        [Test]
        public void DateTimeOffsetsEndBefore2200Utc()
        {
            var last = new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(-1);
            Assert.AreEqual("2199-12-31T23:59:59.9999999Z", EventTime.FromDateTimeOffset(last).ToIsoString());
            var error = Refused("ts", () => EventTime.FromDateTimeOffset(new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero)));
            StringAssert.StartsWith("ts must be before 2200-01-01T00:00:00Z, got 2200-01-01T00:00:00+00:00", error.Message);
            // The limit is UTC: 00:30 at +01:00 is still 2199; 23:30 at -01:00 is already 2200.
            EventTime east = new DateTimeOffset(2200, 1, 1, 0, 30, 0, TimeSpan.FromHours(1));
            Assert.AreEqual("2200-01-01T00:30:00+01:00", east.ToIsoString());
            Refused("ts", () => EventTime.FromDateTimeOffset(new DateTimeOffset(2199, 12, 31, 23, 30, 0, TimeSpan.FromHours(-1))));
            Refused("ts", () => EventTime.FromDateTimeOffset(DateTimeOffset.MaxValue));
        }

        [Test]
        public void DateTimeOffsetsStartAt1970Utc()
        {
            EventTime epoch = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
            Assert.AreEqual("\"1970-01-01T00:00:00Z\"", epoch.ToJson());
            var error = Refused("ts", () => EventTime.FromDateTimeOffset(new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(-1)));
            StringAssert.StartsWith("ts must be on or after 1970-01-01T00:00:00Z, got 1969-12-31T23:59:59.9999999+00:00", error.Message);
            Refused("ts", () => EventTime.FromDateTimeOffset(new DateTimeOffset(1970, 1, 1, 0, 30, 0, TimeSpan.FromHours(1))));
            Refused("ts", () => EventTime.FromDateTimeOffset(DateTimeOffset.MinValue));
        }

        [Test]
        public void UtcDateTimesHaveTheSameLimits()
        {
            EventTime last = new DateTime(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(-1);
            Assert.AreEqual("2199-12-31T23:59:59.9999999Z", last.ToIsoString());
            Refused("ts", () => EventTime.FromUtc(new DateTime(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
            EventTime first = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            Assert.AreEqual("1970-01-01T00:00:00Z", first.ToIsoString());
            Refused("ts", () => EventTime.FromUtc(new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc)));
            Refused("ts", () => EventTime.FromUtc(DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc)));
        }

        [Test]
        public void TheDefaultEventTimeIsRefusedWhenWritten()
        {
            var error = Refused("ts", () => default(EventTime).ToJson());
            StringAssert.StartsWith("ts must be on or after 1970-01-01T00:00:00Z, got 0001-01-01", error.Message);
        }

        [Test]
        public void PositiveAmountsAreAtLeastTheSmallestAmountCounted()
        {
            Assert.AreEqual(1e-8, InputDomain.CheckPositiveAmount("qty", 1e-8));
            var error = Refused("qty", () => InputDomain.CheckPositiveAmount("qty", 1e-9));
            StringAssert.StartsWith("qty must be at least 1e-08 (the smallest amount counted), got 1E-09", error.Message);
            Refused("price", () => InputDomain.CheckPositiveAmount("price", Doubles.Below(1e-8)));
            error = Refused("qty", () => InputDomain.CheckPositiveAmount("qty", 0));
            StringAssert.StartsWith("qty must be greater than 0, got 0", error.Message);
            Refused("qty", () => InputDomain.CheckPositiveAmount("qty", -2));
        }

        [Test]
        public void AmountsAreAtMost90Million()
        {
            Assert.AreEqual(9e7, InputDomain.CheckPositiveAmount("price", 9e7));
            Assert.AreEqual(9e7, InputDomain.CheckAmount("commission", 9e7));
            var error = Refused("price", () => InputDomain.CheckPositiveAmount("price", Doubles.Above(9e7)));
            // Mono writes 90000000.000000015, .NET Core the shortest form, 90000000.00000001.
            StringAssert.StartsWith("price must be at most 90,000,000, got 90000000.00000001", error.Message);
            error = Refused("commission", () => InputDomain.CheckAmount("commission", 1e8));
            StringAssert.StartsWith("commission must be at most 90,000,000, got 100000000", error.Message);
        }

        [TestCase(double.NaN)]
        [TestCase(double.PositiveInfinity)]
        [TestCase(double.NegativeInfinity)]
        public void NumbersAreFinite(double value)
        {
            var error = Refused("qty", () => InputDomain.CheckPositiveAmount("qty", value));
            StringAssert.StartsWith("qty must be a finite number, got ", error.Message);
            Refused("commission", () => InputDomain.CheckAmount("commission", value));
            Refused("initial_capital", () => InputDomain.CheckCapital("initial_capital", value));
            Refused("volume", () => InputDomain.CheckVolume("volume", value));
        }

        [Test]
        public void CommissionsAndFilledQuantitiesMayBeZeroButNotNegative()
        {
            Assert.AreEqual(0.0, InputDomain.CheckAmount("commission", 0));
            Refused("commission", () => InputDomain.CheckAmount("commission", -double.Epsilon));
            var error = Refused("filled_qty", () => InputDomain.CheckAmount("filled_qty", -0.5));
            StringAssert.StartsWith("filled_qty must be greater than or equal to 0, got -0.5", error.Message);
        }

        [Test]
        public void InitialCapitalIsBetween1e8And10Billion()
        {
            Assert.AreEqual(1e-8, InputDomain.CheckCapital("initial_capital", 1e-8));
            Assert.AreEqual(1e10, InputDomain.CheckCapital("initial_capital", 1e10));
            var error = Refused("initial_capital", () => InputDomain.CheckCapital("initial_capital", Doubles.Below(1e-8)));
            StringAssert.StartsWith("initial_capital must be at least 1e-08, got ", error.Message);
            error = Refused("initial_capital", () => InputDomain.CheckCapital("initial_capital", Doubles.Above(1e10)));
            StringAssert.StartsWith("initial_capital must be at most 10,000,000,000, got 10000000000.000002", error.Message);
        }

        [Test]
        public void VolumesAreNonNegativeWithoutAnUpperLimit()
        {
            Assert.AreEqual(0.0, InputDomain.CheckVolume("volume", 0));
            Assert.AreEqual(1e300, InputDomain.CheckVolume("volume", 1e300));
            var error = Refused("bid_volume", () => InputDomain.CheckVolume("bid_volume", -double.Epsilon));
            StringAssert.StartsWith("bid_volume must be greater than or equal to 0, got ", error.Message);
        }

        [TestCase("366d", 31622400L)]
        [TestCase("8784h", 31622400L)]
        [TestCase("527040m", 31622400L)]
        [TestCase("999999s", 999999L)]
        [TestCase("1s", 1L)]
        [TestCase("5m", 300L)]
        public void TimeframesUpTo366Days(string timeframe, long seconds)
        {
            Assert.AreEqual(seconds, InputDomain.CheckTimeframe(timeframe));
        }

        [TestCase("367d")]
        [TestCase("8785h")]
        [TestCase("527041m")]
        [TestCase("999999d")]
        public void TimeframesBeyond366DaysAreRefused(string timeframe)
        {
            var error = Refused("timeframe", () => InputDomain.CheckTimeframe(timeframe));
            StringAssert.StartsWith("timeframe must be at most 366d (31622400 seconds), got '" + timeframe + "'", error.Message);
        }

        [TestCase("0m")]
        [TestCase("05m")]
        [TestCase("1000000s")]
        [TestCase("m")]
        [TestCase("5")]
        [TestCase("5x")]
        [TestCase("1M")]
        [TestCase(" 5m")]
        [TestCase("-5m")]
        public void MalformedTimeframesAreRefused(string timeframe)
        {
            var error = Assert.Throws<ArgumentException>(() => InputDomain.CheckTimeframe(timeframe));
            StringAssert.StartsWith("timeframe must be a positive number and a unit s, m, h or d", error.Message);
        }
    }

    /// <summary>Accepts every batch and records the ids and types of the events it got.</summary>
    internal sealed class RecordingTransport : IIngestTransport
    {
        public readonly List<string> Events = new List<string>();

        public IngestResponse Post(byte[] jsonBody)
        {
            var envelope = (Dictionary<string, object>)Json.Parse(Encoding.UTF8.GetString(jsonBody));
            var events = (List<object>)envelope["events"];
            lock (Events)
            {
                foreach (object item in events)
                {
                    var fields = (Dictionary<string, object>)item;
                    object id;
                    Events.Add(fields.TryGetValue("id", out id) ? (string)id : (string)fields["type"]);
                }
            }
            return new IngestResponse(200,
                "{\"run_id\":1,\"accepted\":" + events.Count + ",\"duplicates\":0,\"rejected\":[]}", null);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// Every event method refuses values outside the input domain in the call, before the event
    /// is spooled: only the events just inside the limits reach the service.
    /// </summary>
    [TestFixture]
    public class ExporterInputDomainTests
    {
        private static readonly DateTimeOffset T0 = new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero);
        private RecordingTransport _transport;
        private StrategyExporter _exporter;

        [SetUp]
        public void Open()
        {
            _transport = new RecordingTransport();
            ExporterOptions options = TestPaths.Options("http://127.0.0.1:9", "key", TestPaths.NewSpool(), "domain");
            options.Transport = _transport;
            _exporter = new StrategyExporter(options);
        }

        [TearDown]
        public void Close()
        {
            _exporter.Dispose();
        }

        private List<string> Sent()
        {
            Assert.IsTrue(_exporter.Flush(TimeSpan.FromSeconds(10)));
            Assert.AreEqual(0, _exporter.Pending);
            lock (_transport.Events) return new List<string>(_transport.Events);
        }

        private static void Refused(string field, TestDelegate call)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.AreEqual(field, error.ParamName);
        }

        [Test]
        public void Executions()
        {
            _exporter.Execution("MESZ3", "buy", 1e-8, 9e7, T0, id: "x-inside", commission: 0);
            _exporter.Execution("MESZ3", "buy", 9e7, 1e-8, T0, id: "x-inside-2", commission: 9e7);
            Refused("qty", () => _exporter.Execution("MESZ3", "buy", 1e-9, 4700.25, T0, id: "x-qty"));
            Refused("qty", () => _exporter.Execution("MESZ3", "buy", Doubles.Above(9e7), 4700.25, T0, id: "x-qty-2"));
            Refused("price", () => _exporter.Execution("MESZ3", "buy", 1, 0, T0, id: "x-price"));
            Refused("price", () => _exporter.Execution("MESZ3", "buy", 1, double.NaN, T0, id: "x-price-2"));
            Refused("commission", () => _exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-fee", commission: -0.01));
            Refused("commission", () => _exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-fee-2",
                commission: Doubles.Above(9e7)));
            Refused("ts", () => _exporter.Execution("MESZ3", "buy", 1, 4700.25, new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero), id: "x-ts"));
            Refused("ts", () => _exporter.Execution("MESZ3", "buy", 1, 4700.25, EventTime.FromEpochNanoseconds(InputDomain.MaxTsNs), id: "x-ts-2"));
            _exporter.Execution("MESZ3", "buy", 1, 4700.25, EventTime.FromEpochNanoseconds(InputDomain.MaxTsNs - 1), id: "x-ts-inside");
            // A bust is identified by its id alone; the service does not read its qty or price.
            _exporter.RemoveExecution("x-inside", "MESZ3", "buy", 0, 0, T0);
            CollectionAssert.AreEqual(new[] { "x-inside", "x-inside-2", "x-ts-inside", "x-inside" }, Sent());
        }

        [Test]
        public void Orders()
        {
            _exporter.Order("o-1", "MESZ3", "buy", "stop_limit", 1e-8, "filled", T0, id: "o-inside",
                limitPrice: 9e7, stopPrice: 1e-8, filledQty: 0, avgFillPrice: 9e7);
            _exporter.Order("o-1", "MESZ3", "buy", "limit", 9e7, "filled", T0, id: "o-inside-2", filledQty: 9e7);
            Refused("qty", () => _exporter.Order("o-1", "MESZ3", "buy", "market", Doubles.Below(1e-8), "new", T0, id: "o-qty"));
            Refused("limit_price", () => _exporter.Order("o-1", "MESZ3", "buy", "limit", 1, "new", T0, id: "o-limit",
                limitPrice: Doubles.Above(9e7)));
            Refused("stop_price", () => _exporter.Order("o-1", "MESZ3", "buy", "stop", 1, "new", T0, id: "o-stop",
                stopPrice: 0));
            Refused("filled_qty", () => _exporter.Order("o-1", "MESZ3", "buy", "limit", 1, "filled", T0, id: "o-filled",
                filledQty: -1));
            Refused("filled_qty", () => _exporter.Order("o-1", "MESZ3", "buy", "limit", 1, "filled", T0, id: "o-filled-2",
                filledQty: Doubles.Above(9e7)));
            Refused("avg_fill_price", () => _exporter.Order("o-1", "MESZ3", "buy", "limit", 1, "filled", T0, id: "o-avg",
                avgFillPrice: 1e-9));
            CollectionAssert.AreEqual(new[] { "o-inside", "o-inside-2" }, Sent());
        }

        [Test]
        public void Instruments()
        {
            _exporter.Instrument("MESZ3", multiplier: 1e-8, tickSize: 9e7);
            Refused("multiplier", () => _exporter.Instrument("MESZ3", multiplier: 0));
            Refused("multiplier", () => _exporter.Instrument("MESZ3", multiplier: Doubles.Above(9e7)));
            Refused("tick_size", () => _exporter.Instrument("MESZ3", tickSize: Doubles.Below(1e-8)));
            Refused("tick_size", () => _exporter.Instrument("MESZ3", tickSize: double.PositiveInfinity));
            CollectionAssert.AreEqual(new[] { "instrument" }, Sent());
        }

        [Test]
        public void Bars()
        {
            _exporter.Bar("MESZ3", "366d", T0, 1e-8, 9e7, 1e-8, 9e7, volume: 0, bidVolume: 0, askVolume: 1e300);
            Refused("timeframe", () => _exporter.Bar("MESZ3", "367d", T0, 1, 1, 1, 1));
            Assert.Throws<ArgumentException>(() => _exporter.Bar("MESZ3", "5 min", T0, 1, 1, 1, 1));
            Refused("open", () => _exporter.Bar("MESZ3", "1m", T0, 0, 1, 1, 1));
            Refused("high", () => _exporter.Bar("MESZ3", "1m", T0, 1, Doubles.Above(9e7), 1, 1));
            Refused("low", () => _exporter.Bar("MESZ3", "1m", T0, 1, 1, 1e-9, 1));
            Refused("close", () => _exporter.Bar("MESZ3", "1m", T0, 1, 1, 1, double.NaN));
            Refused("volume", () => _exporter.Bar("MESZ3", "1m", T0, 1, 1, 1, 1, volume: -1));
            Refused("bid_volume", () => _exporter.Bar("MESZ3", "1m", T0, 1, 1, 1, 1, bidVolume: double.NaN));
            Refused("ask_volume", () => _exporter.Bar("MESZ3", "1m", T0, 1, 1, 1, 1, askVolume: double.PositiveInfinity));
            Refused("ts", () => _exporter.Bar("MESZ3", "1m", new DateTime(1969, 12, 31, 23, 59, 0, DateTimeKind.Utc), 1, 1, 1, 1));
            CollectionAssert.AreEqual(new[] { "bar" }, Sent());
        }

        [Test]
        public void RunEnds()
        {
            Refused("ts", () => _exporter.End(default(EventTime)));
            Refused("ts", () => _exporter.End(new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero)));
            _exporter.End(new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(-1));
            CollectionAssert.AreEqual(new[] { "run_end" }, Sent());
        }
    }

    /// <summary>The run header's initial capital is checked when the exporter is created.</summary>
    [TestFixture]
    public class RunInitialCapitalTests
    {
        private static StrategyExporter Open(double? capital)
        {
            ExporterOptions options = TestPaths.Options("http://127.0.0.1:9", "key", TestPaths.NewSpool(), "capital");
            options.Transport = new RecordingTransport();
            options.Run.InitialCapital = capital;
            return new StrategyExporter(options);
        }

        [Test]
        public void AcceptsCapitalInsideTheLimitsOrNone()
        {
            foreach (double? capital in new double?[] { 1e-8, 1e10, null })
            {
                using (Open(capital))
                {
                }
            }
        }

        [Test]
        public void RefusesCapitalOutsideTheLimits()
        {
            foreach (double capital in new[] { 0, Doubles.Below(1e-8), Doubles.Above(1e10), double.NaN })
            {
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => Open(capital));
                Assert.AreEqual("initial_capital", error.ParamName);
            }
        }
    }
}
