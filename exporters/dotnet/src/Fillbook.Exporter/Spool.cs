using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Fillbook.Exporter
{
    /// <summary>
    /// A durable, append-only spool file: every event is written and flushed before the
    /// exporter's call returns, acknowledgements are appended as they arrive, and reopening
    /// the file resumes exactly the events that were never acknowledged.
    /// </summary>
    /// <remarks>
    /// One record per line, fields separated by tabs, the last field a checksum of the rest:
    /// <code>
    /// H  header-id  {"source":...,"run":{...}}       envelope header shared by events
    /// E  sequence   header-id  {"type":...}           an event
    /// A  1-500,502-600                                acknowledged sequences
    /// </code>
    /// JSON never holds a raw tab or newline (both are escaped), so a line is a record. A crash
    /// can only tear the tail; a tail that does not end in a newline or fails its checksum is
    /// cut off on open. Compaction rewrites only the pending events into a new file and swaps
    /// it in with File.Replace, so the spool does not grow forever.
    /// </remarks>
    public sealed class Spool : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        private readonly object _lock = new object();
        private readonly string _path;
        private readonly bool _fsync;
        private readonly int _compactAfterAcknowledged;
        private readonly LinkedList<SpooledEvent> _pending = new LinkedList<SpooledEvent>();
        private readonly Dictionary<long, LinkedListNode<SpooledEvent>> _bySequence =
            new Dictionary<long, LinkedListNode<SpooledEvent>>();
        private readonly Dictionary<int, string> _headers = new Dictionary<int, string>();
        private readonly Dictionary<string, int> _headerIds = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly HashSet<int> _headersOnDisk = new HashSet<int>();
        private FileStream _file;
        private long _nextSequence = 1;
        private int _nextHeaderId = 1;
        private int _acknowledgedInFile;

        private Spool(string path, bool fsync, int compactAfterAcknowledged)
        {
            _path = path;
            _fsync = fsync;
            _compactAfterAcknowledged = compactAfterAcknowledged;
        }

        /// <summary>
        /// Opens (or creates) the spool at <paramref name="path"/>. The file is held exclusively:
        /// two exporters on one spool would acknowledge each other's events.
        /// </summary>
        /// <param name="fsync">
        /// true: each append is forced to the disk (survives power loss); false: handed to the
        /// operating system (survives the process being killed, not the machine losing power).
        /// </param>
        /// <param name="compactAfterAcknowledged">rewrite the file once this many acknowledged events accumulate in it</param>
        public static Spool Open(string path, bool fsync = true, int compactAfterAcknowledged = 10000)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("a spool path is required");
            string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            RecoverInterruptedCompaction(path);
            var spool = new Spool(path, fsync, Math.Max(1, compactAfterAcknowledged));
            spool.Load();
            return spool;
        }

        public string Path
        {
            get { return _path; }
        }

        public int PendingCount
        {
            get { lock (_lock) return _pending.Count; }
        }

        /// <summary>When the oldest pending event was spooled; null when nothing is pending.</summary>
        public DateTime? OldestPendingSpooledAtUtc
        {
            get
            {
                lock (_lock)
                {
                    return _pending.First == null ? (DateTime?)null : _pending.First.Value.SpooledAtUtc;
                }
            }
        }

        /// <summary>The envelope header JSON an event's HeaderId stands for.</summary>
        public string Header(int headerId)
        {
            lock (_lock) return _headers[headerId];
        }

        /// <summary>
        /// Appends one event under <paramref name="headerJson"/> and flushes it to the file
        /// before returning; returns its sequence number.
        /// </summary>
        public long Append(string headerJson, string eventJson)
        {
            if (headerJson == null) throw new ArgumentNullException("headerJson");
            if (eventJson == null) throw new ArgumentNullException("eventJson");
            if (eventJson.IndexOf('\n') >= 0 || eventJson.IndexOf('\t') >= 0)
            {
                throw new ArgumentException("event JSON must not contain a raw newline or tab");
            }
            lock (_lock)
            {
                ThrowIfDisposed();
                var records = new StringBuilder();
                int headerId = HeaderIdFor(headerJson, records);
                long sequence = _nextSequence++;
                SpoolRecord.AppendRecord(records, "E\t" + sequence.ToString(CultureInfo.InvariantCulture) + "\t" +
                                      headerId.ToString(CultureInfo.InvariantCulture) + "\t" + eventJson);
                Write(records);
                var spooled = new SpooledEvent(sequence, headerId, eventJson, DateTime.UtcNow);
                _bySequence[sequence] = _pending.AddLast(spooled);
                return sequence;
            }
        }

        /// <summary>
        /// The oldest pending events that share the oldest one's header, at most
        /// <paramref name="maxEvents"/> and about <paramref name="maxBytes"/> of JSON (always at
        /// least one). Nothing is removed until <see cref="Acknowledge"/>.
        /// </summary>
        public List<SpooledEvent> Peek(int maxEvents, int maxBytes)
        {
            var batch = new List<SpooledEvent>();
            lock (_lock)
            {
                long bytes = 0;
                for (var node = _pending.First; node != null && batch.Count < maxEvents; node = node.Next)
                {
                    SpooledEvent spooled = node.Value;
                    if (batch.Count > 0 && spooled.HeaderId != batch[0].HeaderId) break;
                    bytes += spooled.EventJson.Length + 1;
                    if (batch.Count > 0 && bytes > maxBytes) break;
                    batch.Add(spooled);
                }
            }
            return batch;
        }

        /// <summary>Records that the service answered for these events; they are never sent again.</summary>
        public void Acknowledge(ICollection<long> sequences)
        {
            if (sequences.Count == 0) return;
            lock (_lock)
            {
                ThrowIfDisposed();
                var records = new StringBuilder();
                SpoolRecord.AppendRecord(records, "A\t" + SpoolRecord.FormatRanges(sequences));
                Write(records);
                foreach (long sequence in sequences)
                {
                    LinkedListNode<SpooledEvent> node;
                    if (_bySequence.TryGetValue(sequence, out node))
                    {
                        _pending.Remove(node);
                        _bySequence.Remove(sequence);
                        _acknowledgedInFile++;
                    }
                }
                if (_acknowledgedInFile >= _compactAfterAcknowledged)
                {
                    CompactLocked();
                }
            }
        }

        /// <summary>Rewrites the file with only the pending events (and their headers).</summary>
        public void Compact()
        {
            lock (_lock)
            {
                ThrowIfDisposed();
                CompactLocked();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_file != null)
                {
                    _file.Dispose();
                    _file = null;
                }
            }
        }

        private void ThrowIfDisposed()
        {
            if (_file == null) throw new ObjectDisposedException("Spool", "the spool " + _path + " is closed");
        }

        private int HeaderIdFor(string headerJson, StringBuilder records)
        {
            int headerId;
            if (!_headerIds.TryGetValue(headerJson, out headerId))
            {
                headerId = _nextHeaderId++;
                _headerIds[headerJson] = headerId;
                _headers[headerId] = headerJson;
            }
            if (!_headersOnDisk.Contains(headerId))
            {
                SpoolRecord.AppendRecord(records, "H\t" + headerId.ToString(CultureInfo.InvariantCulture) + "\t" + headerJson);
                _headersOnDisk.Add(headerId);
            }
            return headerId;
        }

        private void Write(StringBuilder records)
        {
            byte[] bytes = Utf8.GetBytes(records.ToString());
            _file.Write(bytes, 0, bytes.Length);
            _file.Flush(_fsync);
        }
        /// <summary>
        /// A crash during compaction leaves "path.compact": if the spool itself is gone the
        /// replacement had been fully written (it is flushed before the swap), so it becomes
        /// the spool; otherwise the swap never happened and the partial copy is dropped.
        /// </summary>
        private static void RecoverInterruptedCompaction(string path)
        {
            string temporary = path + ".compact";
            if (!File.Exists(temporary)) return;
            if (File.Exists(path)) File.Delete(temporary);
            else File.Move(temporary, path);
        }

        private void Load()
        {
            _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            long validLength = 0;
            long position = 0;
            DateTime openedAt = DateTime.UtcNow;
            var buffer = new MemoryStream();
            int b;
            // Read byte by byte through a buffered stream: simple, and a spool is read once.
            var reader = new BufferedStream(_file, 1 << 16);
            while ((b = reader.ReadByte()) >= 0)
            {
                position++;
                if (b != '\n')
                {
                    buffer.WriteByte((byte)b);
                    continue;
                }
                string line = Utf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                buffer.SetLength(0);
                if (!ApplyRecord(line, openedAt)) break;
                validLength = position;
            }
            if (validLength != _file.Length)
            {
                // A torn or corrupt tail from a crash mid-append: cut it off so new records
                // start on a clean line.
                _file.SetLength(validLength);
                _file.Flush(true);
            }
            _file.Seek(0, SeekOrigin.End);
            if (_acknowledgedInFile >= _compactAfterAcknowledged) CompactLocked();
        }

        private bool ApplyRecord(string line, DateTime openedAt)
        {
            int lastTab = line.LastIndexOf('\t');
            if (lastTab < 0) return false;
            string record = line.Substring(0, lastTab);
            if (line.Substring(lastTab + 1) != SpoolRecord.Checksum(record)) return false;
            string[] fields = record.Split(new[] { '\t' }, 4);
            try
            {
                switch (fields[0])
                {
                    case "H":
                    {
                        int headerId = int.Parse(fields[1], CultureInfo.InvariantCulture);
                        string headerJson = record.Substring(fields[0].Length + fields[1].Length + 2);
                        _headers[headerId] = headerJson;
                        _headerIds[headerJson] = headerId;
                        _headersOnDisk.Add(headerId);
                        _nextHeaderId = Math.Max(_nextHeaderId, headerId + 1);
                        return true;
                    }
                    case "E":
                    {
                        long sequence = long.Parse(fields[1], CultureInfo.InvariantCulture);
                        int headerId = int.Parse(fields[2], CultureInfo.InvariantCulture);
                        if (!_headers.ContainsKey(headerId)) return false;
                        // Resumed events count as old: they are due for sending at once.
                        var spooled = new SpooledEvent(sequence, headerId, fields[3], DateTime.MinValue);
                        _bySequence[sequence] = _pending.AddLast(spooled);
                        _nextSequence = Math.Max(_nextSequence, sequence + 1);
                        return true;
                    }
                    case "A":
                    {
                        foreach (long sequence in SpoolRecord.ParseRanges(fields[1]))
                        {
                            LinkedListNode<SpooledEvent> node;
                            if (_bySequence.TryGetValue(sequence, out node))
                            {
                                _pending.Remove(node);
                                _bySequence.Remove(sequence);
                                _acknowledgedInFile++;
                            }
                        }
                        return true;
                    }
                    default:
                        return false;
                }
            }
            catch (FormatException)
            {
                return false;
            }
            catch (IndexOutOfRangeException)
            {
                return false;
            }
        }

        private void CompactLocked()
        {
            string temporary = _path + ".compact";
            var records = new StringBuilder();
            var written = new HashSet<int>();
            foreach (SpooledEvent spooled in _pending)
            {
                if (written.Add(spooled.HeaderId))
                {
                    SpoolRecord.AppendRecord(records, "H\t" + spooled.HeaderId.ToString(CultureInfo.InvariantCulture) + "\t" +
                                          _headers[spooled.HeaderId]);
                }
                SpoolRecord.AppendRecord(records, "E\t" + spooled.Sequence.ToString(CultureInfo.InvariantCulture) + "\t" +
                                      spooled.HeaderId.ToString(CultureInfo.InvariantCulture) + "\t" + spooled.EventJson);
            }
            using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                byte[] bytes = Utf8.GetBytes(records.ToString());
                output.Write(bytes, 0, bytes.Length);
                output.Flush(true);
            }
            _file.Dispose();
            File.Replace(temporary, _path, null);
            _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            _file.Seek(0, SeekOrigin.End);
            _headersOnDisk.Clear();
            _headersOnDisk.UnionWith(written);
            _acknowledgedInFile = 0;
        }
    }
}
