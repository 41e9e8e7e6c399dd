using System;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    [TestFixture]
    public class EventTimeTests
    {
        [Test]
        public void WritesUtcWithZAndTrimsFractionalZeros()
        {
            EventTime ts = new DateTimeOffset(2023, 12, 15, 14, 30, 0, 120, TimeSpan.Zero);
            Assert.AreEqual("\"2023-12-15T14:30:00.12Z\"", ts.ToJson());
            EventTime whole = new DateTimeOffset(2023, 12, 15, 21, 0, 0, TimeSpan.Zero);
            Assert.AreEqual("\"2023-12-15T21:00:00Z\"", whole.ToJson());
        }

        [Test]
        public void WritesOtherOffsetsExplicitly()
        {
            EventTime paris = new DateTimeOffset(2023, 12, 15, 15, 30, 1, 3, TimeSpan.FromHours(1));
            Assert.AreEqual("2023-12-15T15:30:01.003+01:00", paris.ToIsoString());
            EventTime india = new DateTimeOffset(2023, 12, 15, 20, 0, 0, new TimeSpan(5, 30, 0));
            Assert.AreEqual("2023-12-15T20:00:00+05:30", india.ToIsoString());
            EventTime newYork = new DateTimeOffset(2023, 12, 15, 9, 30, 0, TimeSpan.FromHours(-5));
            Assert.AreEqual("2023-12-15T09:30:00-05:00", newYork.ToIsoString());
        }

        [Test]
        public void KeepsTicksPrecision()
        {
            var instant = new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero).AddTicks(1234567);
            Assert.AreEqual("2023-12-15T14:30:00.1234567Z", EventTime.FromDateTimeOffset(instant).ToIsoString());
        }

        [Test]
        public void AcceptsUtcDateTimesAndRefusesOthers()
        {
            EventTime utc = new DateTime(2023, 12, 15, 14, 30, 0, DateTimeKind.Utc);
            Assert.AreEqual("2023-12-15T14:30:00Z", utc.ToIsoString());
            var unspecified = new DateTime(2023, 12, 15, 9, 30, 0, DateTimeKind.Unspecified);
            var error = Assert.Throws<ArgumentException>(() => EventTime.FromUtc(unspecified));
            StringAssert.Contains("Kind Utc", error.Message);
            Assert.Throws<ArgumentException>(() => EventTime.FromUtc(DateTime.Now));
        }

        [Test]
        public void WritesEpochNanosecondsAsAnInteger()
        {
            EventTime ts = EventTime.FromEpochNanoseconds(1702650600120000000L);
            Assert.AreEqual("1702650600120000000", ts.ToJson());
            Assert.AreEqual("2023-12-15T14:30:00.12Z", ts.ToIsoString());
        }

        [Test]
        public void RefusesEpochValuesThatLookLikeSecondsOrMilliseconds()
        {
            Assert.Throws<ArgumentException>(() => EventTime.FromEpochNanoseconds(1702650600L));
            Assert.Throws<ArgumentException>(() => EventTime.FromEpochNanoseconds(1702650600120L));
            Assert.Throws<ArgumentException>(() => EventTime.FromEpochNanoseconds(1702650600120000L));
        }
    }

    [TestFixture]
    public class PlatformTimeTests
    {
        private static TimeZoneInfo NewYork()
        {
            try
            {
                return TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
            }
            catch (TimeZoneNotFoundException)
            {
                return TimeZoneInfo.FindSystemTimeZoneById("Eastern Standard Time");
            }
        }

        [Test]
        public void ConvertsPlatformWallClockToUtcAcrossDaylightSaving()
        {
            TimeZoneInfo zone = NewYork();
            var winter = PlatformTime.ToUtc(new DateTime(2023, 12, 15, 9, 30, 0), zone);
            Assert.AreEqual(new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero), winter);
            Assert.AreEqual(TimeSpan.Zero, winter.Offset);
            var summer = PlatformTime.ToUtc(new DateTime(2023, 7, 3, 9, 30, 0), zone);
            Assert.AreEqual(new DateTimeOffset(2023, 7, 3, 13, 30, 0, TimeSpan.Zero), summer);
        }

        [Test]
        public void TakesUtcKindAsIsWhateverThePlatformZone()
        {
            var utc = new DateTime(2023, 12, 15, 14, 30, 0, DateTimeKind.Utc);
            Assert.AreEqual(new DateTimeOffset(utc), PlatformTime.ToUtc(utc, NewYork()));
        }

        [Test]
        public void RefusesAWallClockTimeSkippedByDaylightSaving()
        {
            // 2024-03-10 02:30 never happened in New York (clocks jumped from 02:00 to 03:00).
            Assert.Throws<ArgumentException>(() => PlatformTime.ToUtc(new DateTime(2024, 3, 10, 2, 30, 0), NewYork()));
        }

        [Test]
        public void AssumeUtcReadsUnspecifiedQuantowerTimesAsUtc()
        {
            var unspecified = new DateTime(2023, 12, 15, 14, 30, 0, DateTimeKind.Unspecified);
            Assert.AreEqual(new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero), PlatformTime.AssumeUtc(unspecified));
        }
    }

    [TestFixture]
    public class BarTimeTests
    {
        [Test]
        public void OpenTimeIsCloseMinusThePeriod()
        {
            var close = new DateTimeOffset(2023, 12, 15, 14, 35, 0, TimeSpan.Zero);
            Assert.AreEqual(new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero),
                BarTime.OpenFromClose(close, TimeSpan.FromMinutes(5)));
        }

        [Test]
        public void CloseStampedPlatformBarBecomesAnOpenStampedUtcBar()
        {
            // NinjaTrader, platform zone New York: the 5-minute bar stamped 09:35 opened 14:30 UTC.
            TimeZoneInfo zone;
            try { zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York"); }
            catch (TimeZoneNotFoundException) { zone = TimeZoneInfo.FindSystemTimeZoneById("Eastern Standard Time"); }
            var closeUtc = PlatformTime.ToUtc(new DateTime(2023, 12, 15, 9, 35, 0), zone);
            EventTime open = BarTime.OpenFromClose(closeUtc, TimeSpan.FromMinutes(5));
            Assert.AreEqual("2023-12-15T14:30:00Z", open.ToIsoString());
        }

        [Test]
        public void RefusesANonPositivePeriod()
        {
            Assert.Throws<ArgumentException>(() => BarTime.OpenFromClose(DateTimeOffset.UtcNow, TimeSpan.Zero));
        }

        [Test]
        public void NamesTimeframesInTheLargestWholeUnit()
        {
            Assert.AreEqual("30s", BarTime.Timeframe(TimeSpan.FromSeconds(30)));
            Assert.AreEqual("90s", BarTime.Timeframe(TimeSpan.FromSeconds(90)));
            Assert.AreEqual("1m", BarTime.Timeframe(TimeSpan.FromMinutes(1)));
            Assert.AreEqual("5m", BarTime.Timeframe(TimeSpan.FromMinutes(5)));
            Assert.AreEqual("1h", BarTime.Timeframe(TimeSpan.FromHours(1)));
            Assert.AreEqual("4h", BarTime.Timeframe(TimeSpan.FromHours(4)));
            Assert.AreEqual("1d", BarTime.Timeframe(TimeSpan.FromDays(1)));
            Assert.Throws<ArgumentException>(() => BarTime.Timeframe(TimeSpan.FromMilliseconds(500)));
        }
    }

    [TestFixture]
    public class InstrumentMathTests
    {
        [Test]
        public void PointValueIsTickCostOverTickSize()
        {
            Assert.AreEqual(5.0, InstrumentMath.PointValue(1.25, 0.25));     // MES
            Assert.AreEqual(50.0, InstrumentMath.PointValue(12.5, 0.25));    // ES
            Assert.AreEqual(1000.0, InstrumentMath.PointValue(10, 0.01));    // CL
            Assert.AreEqual(100000.0, InstrumentMath.PointValue(10, 0.0001)); // 6E-like
        }

        [Test]
        public void RefusesUnknownTickFacts()
        {
            // Quantower returns NaN when a symbol has no tick cost for the price.
            Assert.Throws<ArgumentException>(() => InstrumentMath.PointValue(double.NaN, 0.25));
            Assert.Throws<ArgumentException>(() => InstrumentMath.PointValue(1.25, 0));
        }
    }

    [TestFixture]
    public class ContractNamesTests
    {
        [Test]
        public void MapsSides()
        {
            Assert.AreEqual("buy", ContractNames.Side("Buy"));
            Assert.AreEqual("buy", ContractNames.Side("BuyToCover"));
            Assert.AreEqual("sell", ContractNames.Side("SellShort"));
            Assert.AreEqual("sell", ContractNames.Side("Short"));
            Assert.Throws<ArgumentException>(() => ContractNames.Side("Flat"));
        }

        [Test]
        public void MapsQuantowerAndNinjaTraderOrderStates()
        {
            Assert.AreEqual("working", ContractNames.OrderStatus("Opened"));
            Assert.AreEqual("partially_filled", ContractNames.OrderStatus("PartiallyFilled"));
            Assert.AreEqual("rejected", ContractNames.OrderStatus("Refused"));
            Assert.AreEqual("new", ContractNames.OrderStatus("Submitted"));
            Assert.AreEqual("working", ContractNames.OrderStatus("ChangePending"));
            Assert.AreEqual("partially_filled", ContractNames.OrderStatus("PartFilled"));
            Assert.AreEqual("cancelled", ContractNames.OrderStatus("Cancelled"));
            Assert.AreEqual("filled", ContractNames.OrderStatus("Filled"));
            Assert.Throws<ArgumentException>(() => ContractNames.OrderStatus("Unknown"));
        }

        [Test]
        public void MapsOrderTypesTimeInForceAndExecutionOperations()
        {
            Assert.AreEqual("stop", ContractNames.OrderType("StopMarket"));
            Assert.AreEqual("stop_limit", ContractNames.OrderType("StopLimit"));
            Assert.AreEqual("stop", ContractNames.OrderType("TrailingStop"));
            Assert.AreEqual("limit", ContractNames.OrderType("Limit"));
            Assert.AreEqual("gtc", ContractNames.TimeInForce("GTC"));
            Assert.IsNull(ContractNames.TimeInForce("Default"));
            Assert.AreEqual("new", ContractNames.ExecutionOperation("Add"));
            Assert.AreEqual("amend", ContractNames.ExecutionOperation("Update"));
            Assert.AreEqual("remove", ContractNames.ExecutionOperation("Remove"));
        }
    }
}

namespace Fillbook.Exporter.Tests
{
    [TestFixture]
    public class PlatformValueTests
    {
        [Test]
        public void UnsetPricesBecomeNull()
        {
            Assert.AreEqual(4700.25, PlatformValue.Price(4700.25));
            Assert.IsNull(PlatformValue.Price(double.NaN));
            Assert.IsNull(PlatformValue.Price(0));
        }

        [Test]
        public void CommissionsAreCostsWhateverTheirSign()
        {
            Assert.AreEqual(0.74, PlatformValue.Commission(-0.74));
            Assert.AreEqual(0.74, PlatformValue.Commission(0.74));
            Assert.IsNull(PlatformValue.Commission(double.NaN));
        }
    }

    [TestFixture]
    public class KeyValueConfigTests
    {
        [Test]
        public void ReadsSettingsIntoExporterOptions()
        {
            var values = KeyValueConfig.Parse(
                "# Fillbook\r\nurl = https://fillbook.example.com\napi_key=fb_abc\nsource = nt8-desk\n" +
                "run_key = 2023-12-15-live\nstrategy = Stacked Imbalance\ninitial_capital = 25000.5\n\n");
            ExporterOptions options = KeyValueConfig.ToOptions(values);
            Assert.AreEqual("https://fillbook.example.com", options.BaseUrl);
            Assert.AreEqual("fb_abc", options.ApiKey);
            Assert.AreEqual("nt8-desk", options.Source);
            Assert.AreEqual("2023-12-15-live", options.Run.Key);
            Assert.AreEqual("live", options.Run.Mode);
            Assert.AreEqual(25000.5, options.Run.InitialCapital);
            Assert.IsNull(options.SpoolPath);
        }

        [Test]
        public void SaysWhatIsMissingOrMalformed()
        {
            var error = Assert.Throws<ArgumentException>(() => KeyValueConfig.ToOptions(KeyValueConfig.Parse("url = x")));
            StringAssert.Contains("api_key", error.Message);
            var format = Assert.Throws<FormatException>(() => KeyValueConfig.Parse("url = x\njust words"));
            StringAssert.Contains("line 2", format.Message);
        }
    }
}
