using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    /// <summary>
    /// A real HTTP server (HttpListener) that answers POST /api/ingest from a script of status
    /// codes, for the failures a healthy backend does not produce on demand (429, 503 with
    /// Retry-After). Once the script runs out it answers 200 like the service: every event accepted.
    /// </summary>
    internal sealed class ScriptedIngestServer : IDisposable
    {
        private readonly HttpListener _listener = new HttpListener();
        private readonly Thread _thread;
        private readonly Queue<KeyValuePair<int, string>> _script = new Queue<KeyValuePair<int, string>>();

        public readonly List<DateTime> RequestTimes = new List<DateTime>();
        public readonly List<int> BatchSizes = new List<int>();
        public readonly List<string> Authorizations = new List<string>();

        public ScriptedIngestServer()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = "http://127.0.0.1:" + port;
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _thread = new Thread(Serve);
            _thread.IsBackground = true;
            _thread.Start();
        }

        public string Url { get; private set; }

        /// <summary>Answer the next request with this status (and Retry-After when not null).</summary>
        public void Then(int status, string retryAfter)
        {
            lock (_script) _script.Enqueue(new KeyValuePair<int, string>(status, retryAfter));
        }

        private void Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = _listener.GetContext();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                string body;
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
                var envelope = (Dictionary<string, object>)Json.Parse(body);
                int events = ((List<object>)envelope["events"]).Count;
                KeyValuePair<int, string> step = new KeyValuePair<int, string>(200, null);
                lock (_script)
                {
                    RequestTimes.Add(DateTime.UtcNow);
                    BatchSizes.Add(events);
                    Authorizations.Add(context.Request.Headers["Authorization"]);
                    if (_script.Count > 0) step = _script.Dequeue();
                }
                string answer = step.Key == 200
                    ? "{\"run_id\":1,\"accepted\":" + events + ",\"duplicates\":0,\"rejected\":[]}"
                    : "{\"error\":\"busy\",\"detail\":\"scripted " + step.Key + "\"}";
                context.Response.StatusCode = step.Key;
                if (step.Value != null) context.Response.AddHeader("Retry-After", step.Value);
                byte[] bytes = Encoding.UTF8.GetBytes(answer);
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                context.Response.OutputStream.Write(bytes, 0, bytes.Length);
                context.Response.OutputStream.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
        }
    }

    internal static class TestPaths
    {
        public static string NewSpool()
        {
            string directory = Path.Combine(Path.GetTempPath(), "fillbook-exporter-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            return Path.Combine(directory, "events.spool");
        }

        public static ExporterOptions Options(string url, string apiKey, string spoolPath, string runKey)
        {
            var options = new ExporterOptions
            {
                BaseUrl = url,
                ApiKey = apiKey,
                Source = "nunit",
                SpoolPath = spoolPath,
                Run = new RunInfo { Key = runKey, Strategy = "NUnit", Mode = "paper" },
                FsyncEachEvent = false,
                Log = message => { },
            };
            options.Retry.BaseDelay = TimeSpan.FromMilliseconds(20);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(200);
            return options;
        }
    }

    [TestFixture]
    public class EventIdTests
    {
        [Test]
        public void TheSameStreamGetsTheSameIds()
        {
            var first = new EventIds("desk-1", "run-1");
            var second = new EventIds("desk-1", "run-1");
            string content = "\"ts\":\"2023-12-15T14:30:01Z\",\"symbol\":\"MESZ3\",\"side\":\"buy\",\"qty\":2,\"price\":4700.25";
            Assert.AreEqual(first.Next("execution", content), second.Next("execution", content));
            Assert.AreEqual(first.Next("execution", content), second.Next("execution", content));
        }

        [Test]
        public void IdenticalEventsInOneStreamStayDistinct()
        {
            var ids = new EventIds("desk-1", "run-1");
            string content = "\"symbol\":\"MESZ3\",\"qty\":1";
            Assert.AreNotEqual(ids.Next("execution", content), ids.Next("execution", content));
        }

        [Test]
        public void IdsDependOnSourceRunTypeAndContent()
        {
            string content = "\"symbol\":\"MESZ3\",\"qty\":1";
            string id = new EventIds("desk-1", "run-1").Next("execution", content);
            Assert.AreNotEqual(id, new EventIds("desk-2", "run-1").Next("execution", content));
            Assert.AreNotEqual(id, new EventIds("desk-1", "run-2").Next("execution", content));
            Assert.AreNotEqual(id, new EventIds("desk-1", "run-1").Next("order", content));
            Assert.AreNotEqual(id, new EventIds("desk-1", "run-1").Next("execution", "\"symbol\":\"MESZ3\",\"qty\":2"));
            StringAssert.IsMatch("^fb-[0-9a-f]{32}$", id);
        }

        [Test]
        public void AnExporterThatReplaysItsEventsProducesTheSameIds()
        {
            var ts = new DateTimeOffset(2023, 12, 15, 14, 30, 1, TimeSpan.Zero);
            var ids = new List<string>[2];
            for (int run = 0; run < 2; run++)
            {
                // Nothing listens on this URL: the events only need to be spooled.
                ExporterOptions options = TestPaths.Options("http://127.0.0.1:9", "k", TestPaths.NewSpool(), "replay");
                options.DisposeFlushTimeout = TimeSpan.Zero;
                ids[run] = new List<string>();
                using (var exporter = new StrategyExporter(options))
                {
                    ids[run].Add(exporter.Execution("MESZ3", "buy", 1, 4700.25, ts));
                    ids[run].Add(exporter.Execution("MESZ3", "buy", 1, 4700.25, ts));
                    ids[run].Add(exporter.Order("o-1", "MESZ3", "sell", "limit", 1, "working", ts, limitPrice: 4705));
                    ids[run].Add(exporter.Execution("MESZ3", "sell", 1, 4705, ts, id: "x-given"));
                }
            }
            CollectionAssert.AreEqual(ids[0], ids[1]);
            Assert.AreNotEqual(ids[0][0], ids[0][1]);
            Assert.AreEqual("x-given", ids[0][3]);
        }
    }

    [TestFixture]
    public class ExporterSendingTests
    {
        [Test]
        public void SendsFullBatchesBySizeAndTheRestByAge()
        {
            using (var server = new ScriptedIngestServer())
            {
                ExporterOptions options = TestPaths.Options(server.Url, "key-1", TestPaths.NewSpool(), "batches");
                options.MaxBatchEvents = 10;
                // Long enough that the 25 appends always finish before the age limit fires.
                options.MaxBatchAge = TimeSpan.FromSeconds(1);
                using (var exporter = new StrategyExporter(options))
                {
                    var ts = new DateTimeOffset(2023, 12, 15, 14, 30, 0, TimeSpan.Zero);
                    for (int i = 0; i < 25; i++) exporter.Execution("MESZ3", "buy", 1, 4700, ts.AddSeconds(i), id: "x-" + i);
                    // No Flush: the last 5 must go out on their own once they are a second old.
                    DateTime deadline = DateTime.UtcNow.AddSeconds(10);
                    while (exporter.Pending > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
                    Assert.AreEqual(0, exporter.Pending);
                    Assert.AreEqual(25, exporter.Accepted);
                }
                CollectionAssert.AreEqual(new[] { 10, 10, 5 }, server.BatchSizes);
                Assert.AreEqual("Bearer key-1", server.Authorizations[0]);
            }
        }

        [Test]
        public void HonoursRetryAfterOnA429()
        {
            using (var server = new ScriptedIngestServer())
            {
                server.Then(429, "1");
                ExporterOptions options = TestPaths.Options(server.Url, "k", TestPaths.NewSpool(), "retry-after");
                using (var exporter = new StrategyExporter(options))
                {
                    exporter.Instrument("MESZ3", multiplier: 5);
                    Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                    Assert.AreEqual(1, exporter.Retries);
                    Assert.IsNull(exporter.StopReason);
                }
                Assert.AreEqual(2, server.RequestTimes.Count);
                TimeSpan waited = server.RequestTimes[1] - server.RequestTimes[0];
                // The back-off alone would have been ~20 ms; the server asked for a second.
                Assert.That(waited, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950)));
            }
        }

        [Test]
        public void RetriesServerErrorsWithBackOffUntilAccepted()
        {
            using (var server = new ScriptedIngestServer())
            {
                server.Then(503, null);
                server.Then(500, null);
                server.Then(502, null);
                ExporterOptions options = TestPaths.Options(server.Url, "k", TestPaths.NewSpool(), "5xx");
                using (var exporter = new StrategyExporter(options))
                {
                    exporter.Instrument("MESZ3", multiplier: 5);
                    Assert.IsTrue(exporter.Flush(TimeSpan.FromSeconds(10)));
                    Assert.AreEqual(3, exporter.Retries);
                    Assert.AreEqual(1, exporter.Accepted);
                }
                Assert.AreEqual(4, server.BatchSizes.Count);
            }
        }

        [Test]
        public void RetriesWhileNothingListensAndKeepsTheEventsSpooled()
        {
            string spool = TestPaths.NewSpool();
            ExporterOptions options = TestPaths.Options("http://127.0.0.1:9", "k", spool, "offline");
            options.DisposeFlushTimeout = TimeSpan.FromMilliseconds(300);
            using (var exporter = new StrategyExporter(options))
            {
                exporter.Instrument("MESZ3", multiplier: 5);
                Assert.IsFalse(exporter.Flush(TimeSpan.FromMilliseconds(300)));
                Assert.That(exporter.Retries, Is.GreaterThan(0));
                Assert.IsNull(exporter.StopReason);
            }
            using (Spool reopened = Spool.Open(spool)) Assert.AreEqual(1, reopened.PendingCount);
        }
    }
}
