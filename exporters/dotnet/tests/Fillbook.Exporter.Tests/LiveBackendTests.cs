using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    /// <summary>
    /// Against the real service: tests/exporters/dotnet/test_dotnet.py starts the backend and
    /// passes its URL and an API key in FILLBOOK_TEST_URL / FILLBOOK_TEST_API_KEY. Without them
    /// (nunit-console run by hand) these tests are ignored, not passed.
    /// </summary>
    [TestFixture]
    public class LiveBackendTests
    {
        private string _url;
        private string _apiKey;
        // Run keys and symbols unique to this run of the suite, so it can run again on one backend.
        private readonly string _unique = Guid.NewGuid().ToString("N").Substring(0, 8);

        private string Key(string name)
        {
            return name + "-" + _unique;
        }

        /// <summary>Options for the live backend; the source is unique too, because ids are scoped per source.</summary>
        private ExporterOptions Options(string apiKey, string spool, string runName)
        {
            ExporterOptions options = TestPaths.Options(_url, apiKey, spool, Key(runName));
            options.Source = Key("nunit");
            return options;
        }

        [SetUp]
        public void FindTheBackend()
        {
            _url = Environment.GetEnvironmentVariable("FILLBOOK_TEST_URL");
            _apiKey = Environment.GetEnvironmentVariable("FILLBOOK_TEST_API_KEY");
            if (string.IsNullOrEmpty(_url) || string.IsNullOrEmpty(_apiKey))
            {
                Assert.Ignore("FILLBOOK_TEST_URL and FILLBOOK_TEST_API_KEY are not set (tests/exporters/dotnet/test_dotnet.py sets them)");
            }
        }

        private static readonly DateTimeOffset T0 = new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero);

        [Test]
        public void StopsOnA401AndSurfacesTheReason()
        {
            string spool = TestPaths.NewSpool();
            string stoppedWith = null;
            ExporterOptions options = Options("not-a-key", spool, "stop-on-401");
            options.OnStopped = reason => stoppedWith = reason;
            using (var exporter = new StrategyExporter(options))
            {
                exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-401");
                Assert.IsFalse(exporter.Flush(TimeSpan.FromSeconds(10)));
                StringAssert.StartsWith("401: ", exporter.StopReason);
                Assert.AreEqual(exporter.StopReason, stoppedWith);
                Assert.AreEqual(0, exporter.Retries, "an envelope error is not retried");
                Assert.AreEqual(1, exporter.Pending);
            }
            // The event was not lost: a corrected exporter on the same spool sends it.
            ExporterOptions fixedOptions = Options(_apiKey, spool, "stop-on-401");
            using (var exporter = new StrategyExporter(fixedOptions))
            {
                Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                Assert.AreEqual(1, exporter.Accepted);
            }
        }

        [Test]
        public void StopsOnA422WhenTheRunHeaderContradictsTheStoredRun()
        {
            ExporterOptions first = Options(_apiKey, TestPaths.NewSpool(), "conflict");
            using (var exporter = new StrategyExporter(first))
            {
                exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-conflict-1");
                Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
            }
            ExporterOptions renamed = Options(_apiKey, TestPaths.NewSpool(), "conflict");
            renamed.Run.Strategy = "Another strategy";
            using (var exporter = new StrategyExporter(renamed))
            {
                exporter.Execution("MESZ3", "sell", 1, 4701.00, T0.AddMinutes(1), id: "x-conflict-2");
                Assert.IsFalse(exporter.Flush(TimeSpan.FromSeconds(10)));
                StringAssert.StartsWith("422: ", exporter.StopReason);
                StringAssert.Contains("strategy", exporter.StopReason);
                Assert.AreEqual(1, exporter.Pending);
            }
        }

        [Test]
        public void StopsOnA413ForAnEventLargerThanTheServiceTakes()
        {
            ExporterOptions options = Options(_apiKey, TestPaths.NewSpool(), "too-large");
            using (var exporter = new StrategyExporter(options))
            {
                // One event past the 16 MiB batch limit: no batch split can make it fit.
                exporter.Instrument("HUGE", currency: new string('x', 17 * 1024 * 1024));
                Assert.IsFalse(exporter.Flush(TimeSpan.FromSeconds(30)));
                StringAssert.StartsWith("413: ", exporter.StopReason);
                Assert.AreEqual(0, exporter.Retries);
            }
        }

        [Test]
        public void ReportsRejectedEventsThroughTheCallbackOnceAndNeverResendsThem()
        {
            var rejections = new List<RejectedEvent>();
            ExporterOptions options = Options(_apiKey, TestPaths.NewSpool(), "rejections");
            options.OnRejected = rejection => rejections.Add(rejection);
            using (var exporter = new StrategyExporter(options))
            {
                exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-good");
                // Outside the input domain: refused here, before it is spooled.
                Assert.Throws<ArgumentOutOfRangeException>(
                    () => exporter.Execution("MESZ3", "buy", 0, 4700.25, T0.AddSeconds(1), id: "x-zero-qty"));
                // The words are not checked locally: the service rejects them.
                exporter.Order("o-bad", "MESZ3", "buy", "limit", 1, "half_filled", T0.AddSeconds(1), id: "o-bad-status",
                    limitPrice: 4700.25);
                exporter.Execution("MESZ3", "sideways", 1, 4700.25, T0.AddSeconds(2), id: "x-bad-side");
                Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                Assert.AreEqual(0, exporter.Pending);
                Assert.AreEqual(1, exporter.Accepted);
                Assert.AreEqual(2, exporter.Rejected);
                Assert.IsNull(exporter.StopReason);
            }
            Assert.AreEqual(2, rejections.Count);
            Assert.AreEqual("o-bad-status", rejections[0].Id);
            StringAssert.StartsWith("status: ", rejections[0].Error);
            StringAssert.Contains("\"id\":\"o-bad-status\"", rejections[0].EventJson);
            Assert.AreEqual("x-bad-side", rejections[1].Id);
            StringAssert.StartsWith("side: ", rejections[1].Error);
        }

        [Test]
        public void AmendsAndRemovesExecutionsSentEarlier()
        {
            var rejections = new List<RejectedEvent>();
            ExporterOptions options = Options(_apiKey, TestPaths.NewSpool(), "amend-remove");
            options.OnRejected = rejection => rejections.Add(rejection);
            using (var exporter = new StrategyExporter(options))
            {
                exporter.Execution("MESZ3", "buy", 1, 4700.25, T0, id: "x-amended");
                exporter.Execution("MESZ3", "sell", 1, 4702.00, T0.AddMinutes(1), id: "x-busted");
                Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                // The broker's back office corrects one fill and busts the other.
                exporter.Execution("MESZ3", "buy", 2, 4700.50, T0, id: "x-amended", op: "amend");
                exporter.RemoveExecution("x-busted", "MESZ3", "sell", 1, 4702.00, T0.AddMinutes(1));
                // Removing a fill this source never sent is refused, not ignored.
                exporter.RemoveExecution("x-never-sent", "MESZ3", "sell", 1, 4702.00, T0.AddMinutes(2));
                Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                Assert.AreEqual(4, exporter.Accepted);
                Assert.AreEqual(1, exporter.Rejected);
            }
            Assert.AreEqual(1, rejections.Count);
            Assert.AreEqual("x-never-sent", rejections[0].Id);
        }

        [Test]
        public void AResentStreamIsStoredOnceAsDuplicates()
        {
            for (int pass = 0; pass < 2; pass++)
            {
                ExporterOptions options = Options(_apiKey, TestPaths.NewSpool(), "resend");
                using (var exporter = new StrategyExporter(options))
                {
                    exporter.Instrument(Key("MESZ3"), multiplier: 5, tickSize: 0.25, currency: "USD");
                    // No ids: the derived ids must match across the two passes.
                    exporter.Execution("MESZ3", "buy", 1, 4700.25, T0);
                    exporter.Execution("MESZ3", "buy", 1, 4700.25, T0);
                    exporter.Execution("MESZ3", "sell", 2, 4701.00, T0.AddMinutes(1));
                    Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                    if (pass == 0)
                    {
                        Assert.AreEqual(4, exporter.Accepted);
                    }
                    else
                    {
                        // The instrument's values are unchanged, so it counts as a duplicate too.
                        Assert.AreEqual(0, exporter.Accepted);
                        Assert.AreEqual(4, exporter.Duplicates);
                    }
                }
            }
        }
    }
}
