using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Fillbook.Exporter.Tests
{
    [TestFixture]
    public class SpoolTests
    {
        private const string Header = "{\"source\":\"s\",\"run\":{\"key\":\"r\",\"strategy\":\"x\",\"mode\":\"live\"}}";
        private string _directory;
        private string _path;

        [SetUp]
        public void CreateDirectory()
        {
            _directory = Path.Combine(Path.GetTempPath(), "fillbook-spool-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_directory);
            _path = Path.Combine(_directory, "events.spool");
        }

        [TearDown]
        public void DeleteDirectory()
        {
            Directory.Delete(_directory, true);
        }

        private static string Event(int n)
        {
            return "{\"type\":\"execution\",\"id\":\"x-" + n + "\"}";
        }

        private static List<string> PendingJson(Spool spool)
        {
            var json = new List<string>();
            foreach (SpooledEvent spooled in spool.Peek(int.MaxValue, int.MaxValue)) json.Add(spooled.EventJson);
            return json;
        }

        [Test]
        public void ReopeningResumesExactlyTheUnacknowledgedEvents()
        {
            using (Spool spool = Spool.Open(_path))
            {
                var sequences = new List<long>();
                for (int n = 1; n <= 5; n++) sequences.Add(spool.Append(Header, Event(n)));
                spool.Acknowledge(new[] { sequences[0], sequences[1], sequences[3] });
                Assert.AreEqual(2, spool.PendingCount);
            }
            using (Spool reopened = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(3), Event(5) }, PendingJson(reopened));
                Assert.AreEqual(Header, reopened.Header(reopened.Peek(1, int.MaxValue)[0].HeaderId));
                // New appends continue the sequence instead of reusing acknowledged numbers.
                long next = reopened.Append(Header, Event(6));
                Assert.AreEqual(6, next);
            }
        }

        [Test]
        public void ResumedEventsAreDueImmediately()
        {
            using (Spool spool = Spool.Open(_path)) spool.Append(Header, Event(1));
            using (Spool reopened = Spool.Open(_path))
            {
                Assert.AreEqual(DateTime.MinValue, reopened.OldestPendingSpooledAtUtc);
            }
        }

        [Test]
        public void ATornTailFromACrashIsCutOffAndAppendsContinueCleanly()
        {
            using (Spool spool = Spool.Open(_path))
            {
                spool.Append(Header, Event(1));
                spool.Append(Header, Event(2));
            }
            // A crash mid-append leaves half a record without its newline.
            File.AppendAllText(_path, "E\t3\t1\t{\"type\":\"exec");
            using (Spool reopened = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(1), Event(2) }, PendingJson(reopened));
                reopened.Append(Header, Event(3));
            }
            using (Spool again = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(1), Event(2), Event(3) }, PendingJson(again));
            }
        }

        [Test]
        public void ARecordFailingItsChecksumEndsTheReadableFile()
        {
            using (Spool spool = Spool.Open(_path))
            {
                spool.Append(Header, Event(1));
                spool.Append(Header, Event(2));
            }
            string text = File.ReadAllText(_path);
            File.WriteAllText(_path, text.Replace("x-2", "x-9"));
            using (Spool reopened = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(1) }, PendingJson(reopened));
            }
        }

        [Test]
        public void PeekStopsAtTheSizeLimitsButAlwaysReturnsOneEvent()
        {
            using (Spool spool = Spool.Open(_path))
            {
                for (int n = 1; n <= 10; n++) spool.Append(Header, Event(n));
                Assert.AreEqual(4, spool.Peek(4, int.MaxValue).Count);
                Assert.AreEqual(1, spool.Peek(10, 1).Count);
                int oneEvent = Event(1).Length + 1;
                Assert.AreEqual(3, spool.Peek(10, oneEvent * 3).Count);
            }
        }

        [Test]
        public void PeekKeepsABatchUnderOneHeader()
        {
            const string otherRun = "{\"source\":\"s\",\"run\":{\"key\":\"other\",\"strategy\":\"x\",\"mode\":\"live\"}}";
            using (Spool spool = Spool.Open(_path))
            {
                spool.Append(Header, Event(1));
                spool.Append(Header, Event(2));
                spool.Append(otherRun, Event(3));
                List<SpooledEvent> first = spool.Peek(10, int.MaxValue);
                Assert.AreEqual(2, first.Count);
                spool.Acknowledge(new[] { first[0].Sequence, first[1].Sequence });
                List<SpooledEvent> second = spool.Peek(10, int.MaxValue);
                Assert.AreEqual(1, second.Count);
                Assert.AreEqual(otherRun, spool.Header(second[0].HeaderId));
            }
        }

        [Test]
        public void CompactionShrinksTheFileAndKeepsThePendingEvents()
        {
            using (Spool spool = Spool.Open(_path, fsync: false, compactAfterAcknowledged: 100))
            {
                var sequences = new List<long>();
                for (int n = 1; n <= 150; n++) sequences.Add(spool.Append(Header, Event(n)));
                long before = new FileInfo(_path).Length;
                // Acknowledging 100 crosses the threshold: the file is rewritten with 50 events.
                spool.Acknowledge(sequences.GetRange(0, 100));
                long after = new FileInfo(_path).Length;
                Assert.That(after, Is.LessThan(before / 2));
                spool.Append(Header, Event(151));
            }
            using (Spool reopened = Spool.Open(_path))
            {
                List<string> pending = PendingJson(reopened);
                Assert.AreEqual(51, pending.Count);
                Assert.AreEqual(Event(101), pending[0]);
                Assert.AreEqual(Event(151), pending[50]);
            }
            Assert.IsFalse(File.Exists(_path + ".compact"));
        }

        [Test]
        public void AnInterruptedCompactionIsRecoveredOnOpen()
        {
            using (Spool spool = Spool.Open(_path)) spool.Append(Header, Event(1));
            // Crash after the replacement was written but before it was swapped in...
            File.Copy(_path, _path + ".compact");
            File.Delete(_path);
            using (Spool reopened = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(1) }, PendingJson(reopened));
            }
            // ...or during the write: the spool is intact and the partial copy is dropped.
            File.WriteAllText(_path + ".compact", "H\t1\t{\"half");
            using (Spool reopened = Spool.Open(_path))
            {
                CollectionAssert.AreEqual(new[] { Event(1) }, PendingJson(reopened));
            }
            Assert.IsFalse(File.Exists(_path + ".compact"));
        }

        [Test]
        public void AcknowledgementsAreWrittenAsRanges()
        {
            Assert.AreEqual("1-3,5,7-8", SpoolRecord.FormatRanges(new long[] { 8, 1, 2, 3, 5, 7 }));
            Assert.AreEqual("4", SpoolRecord.FormatRanges(new long[] { 4 }));
        }

        [Test]
        public void RefusesEventJsonWithRawNewlines()
        {
            using (Spool spool = Spool.Open(_path))
            {
                Assert.Throws<ArgumentException>(() => spool.Append(Header, "{\"a\":\"x\ny\"}"));
            }
        }

        [Test]
        public void StoresNonAsciiTextIntact()
        {
            string json = "{\"type\":\"instrument\",\"symbol\":\"DAX \u20ac \u6771\u4eac\"}";
            using (Spool spool = Spool.Open(_path)) spool.Append(Header, json);
            using (Spool reopened = Spool.Open(_path))
            {
                Assert.AreEqual(json, PendingJson(reopened)[0]);
            }
            StringAssert.Contains("DAX \u20ac", File.ReadAllText(_path, Encoding.UTF8));
        }
    }
}
