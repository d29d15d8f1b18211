#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/crc32c.h"
#include "base/sim_file_system.h"
#include "journal/reader.h"
#include "journal/tailer.h"
#include "journal/writer.h"

namespace bursar::journal {
namespace {

const std::string kDir = "data/journal";

std::string Payload(uint64_t n) {
    return "payload-" + std::to_string(n) + std::string(n % 50, 'x');
}

struct Read {
    Result<ScanResult> result;
    std::vector<std::pair<uint64_t, std::string>> records;
};

// Recovery after a power cut: scans from the first segment, repairing a torn tail, checks each
// record's payload and collects the sequence numbers.
Result<ScanResult> RecoverSeqs(FileSystem& fs, std::vector<uint64_t>* seqs) {
    return Scan(fs, kDir, ScanOptions{.from_first_segment = true, .repair = true},
                [&](const RecordView& r) {
                    EXPECT_EQ(r.payload, Payload(r.seq));
                    seqs->push_back(r.seq);
                    return Status::Ok();
                });
}

Read ScanAll(FileSystem& fs, ScanOptions options = {}) {
    Read read;
    read.result = Scan(fs, kDir, options, [&](const RecordView& r) {
        read.records.emplace_back(r.seq, std::string(r.payload));
        return Status::Ok();
    });
    return read;
}

class JournalTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(fs_.CreateDir("data").ok());
        ASSERT_TRUE(fs_.CreateDir(kDir).ok());
    }

    std::unique_ptr<JournalWriter> OpenWriter(const JournalTail& tail, uint64_t segment_bytes_max) {
        auto writer = JournalWriter::Open(fs_, kDir, tail, WriterOptions{segment_bytes_max});
        EXPECT_TRUE(writer) << writer.error().ToString();
        return std::move(*writer);
    }

    // Appends records first..last (payloads by number), syncing each when `sync`.
    void Append(JournalWriter& writer, uint64_t first, uint64_t last, bool sync) {
        for (uint64_t n = first; n <= last; ++n) {
            std::string record(kRecordHeaderSize, '\0');
            record += Payload(n);
            uint64_t seq = 0;
            ASSERT_TRUE(writer.Append(RecordType::kBatch, 1000 + n, &record, &seq).ok());
            ASSERT_EQ(seq, n);
            if (sync) {
                ASSERT_TRUE(writer.Sync().ok());
            }
        }
    }

    std::vector<std::string> Segments() {
        std::vector<std::string> names;
        auto listing = fs_.ListDir(kDir);
        for (const auto& name : *listing) {
            if (ParseSegmentName(name) != 0) names.push_back(name);
        }
        return names;
    }

    SimFileSystem fs_{42};
};

TEST_F(JournalTest, WritesAndReadsBackAcrossSegments) {
    auto writer = OpenWriter(JournalTail{}, 1024);
    Append(*writer, 1, 100, true);
    EXPECT_GT(Segments().size(), 3u);
    Read read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_TRUE(read.result) << read.result.error().ToString();
    ASSERT_EQ(read.records.size(), 100u);
    for (uint64_t n = 1; n <= 100; ++n) {
        EXPECT_EQ(read.records[n - 1].first, n);
        EXPECT_EQ(read.records[n - 1].second, Payload(n));
    }
    EXPECT_EQ(read.result->tail.next_seq, 101u);
    EXPECT_EQ(read.result->tail.last_hash, writer->last_hash());
}

TEST_F(JournalTest, ReopensAndContinuesTheChain) {
    auto writer = OpenWriter(JournalTail{}, 4096);
    Append(*writer, 1, 10, true);
    writer.reset();
    Read read = ScanAll(fs_);
    ASSERT_TRUE(read.result);
    writer = OpenWriter(read.result->tail, 4096);
    Append(*writer, 11, 20, true);
    read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_TRUE(read.result) << read.result.error().ToString();
    EXPECT_EQ(read.records.size(), 20u);
}

TEST_F(JournalTest, DeliversOnlyAfterTheSnapshotAndChecksTheAnchor) {
    auto writer = OpenWriter(JournalTail{}, 512);
    Append(*writer, 1, 30, true);
    Hash256 hash_at_20{};
    (void)Scan(fs_, kDir, ScanOptions{.from_first_segment = true}, [&](const RecordView& r) {
        if (r.seq == 20) hash_at_20 = r.hash;
        return Status::Ok();
    });
    Read read = ScanAll(fs_, ScanOptions{.deliver_after_seq = 20, .anchor = {{20, hash_at_20}}});
    ASSERT_TRUE(read.result) << read.result.error().ToString();
    ASSERT_EQ(read.records.size(), 10u);
    EXPECT_EQ(read.records.front().first, 21u);
    Hash256 wrong = hash_at_20;
    wrong[0] ^= 1;
    read = ScanAll(fs_, ScanOptions{.deliver_after_seq = 20, .anchor = {{20, wrong}}});
    ASSERT_FALSE(read.result);
    EXPECT_EQ(read.result.error().code(), StatusCode::kCorruption);
    // A snapshot beyond the journal's end means records were lost.
    read = ScanAll(fs_, ScanOptions{.deliver_after_seq = 40, .anchor = {{40, wrong}}});
    ASSERT_FALSE(read.result);
}

TEST_F(JournalTest, PowerCutKeepsEverySyncedRecordAndTruncatesTheTornTail) {
    for (uint64_t seed = 0; seed < 40; ++seed) {
        SimFileSystem fs(seed);
        ASSERT_TRUE(fs.CreateDir("data").ok());
        ASSERT_TRUE(fs.CreateDir(kDir).ok());
        auto writer = JournalWriter::Open(fs, kDir, JournalTail{}, WriterOptions{2048});
        ASSERT_TRUE(writer);
        uint64_t synced = 5 + seed % 20;
        uint64_t appended = synced + 1 + seed % 7;
        for (uint64_t n = 1; n <= appended; ++n) {
            std::string record(kRecordHeaderSize, '\0');
            record += Payload(n);
            uint64_t seq = 0;
            ASSERT_TRUE((*writer)->Append(RecordType::kBatch, n, &record, &seq).ok());
            if (n <= synced) {
                ASSERT_TRUE((*writer)->Sync().ok());
            }
        }
        fs.PowerCut();
        std::vector<uint64_t> seqs;
        auto result = RecoverSeqs(fs, &seqs);
        ASSERT_TRUE(result) << "seed " << seed << ": " << result.error().ToString();
        ASSERT_GE(seqs.size(), synced) << "seed " << seed;
        ASSERT_LE(seqs.size(), appended);
        writer->reset();  // the process that wrote it is gone
        // After the repair the journal is clean and can be continued.
        auto again = JournalWriter::Open(fs, kDir, result->tail, WriterOptions{2048});
        ASSERT_TRUE(again) << again.error().ToString();
        std::string record(kRecordHeaderSize, '\0');
        record += Payload(seqs.size() + 1);
        uint64_t seq = 0;
        ASSERT_TRUE((*again)->Append(RecordType::kBatch, 1, &record, &seq).ok());
        ASSERT_TRUE((*again)->Sync().ok());
        EXPECT_EQ(seq, seqs.size() + 1);
        auto clean = Scan(fs, kDir, ScanOptions{.from_first_segment = true},
                          [](const RecordView&) { return Status::Ok(); });
        ASSERT_TRUE(clean) << clean.error().ToString();
        EXPECT_EQ(clean->torn_bytes, 0u);
    }
}

// Appends record `n`, synced.
void AppendOne(JournalWriter& writer, uint64_t n) {
    std::string record(kRecordHeaderSize, '\0');
    record += Payload(n);
    uint64_t seq = 0;
    ASSERT_TRUE(writer.Append(RecordType::kBatch, 1000 + n, &record, &seq).ok());
    ASSERT_EQ(seq, n);
    ASSERT_TRUE(writer.Sync().ok());
}

// True when the last segment is one the preparer wrote ahead: its file is the whole segment size,
// beyond its records.
bool LastSegmentPreallocated(FileSystem& fs, uint64_t segment_bytes_max) {
    auto scanned = Scan(fs, kDir, ScanOptions{}, [](const RecordView&) { return Status::Ok(); });
    if (!scanned || scanned->tail.last_segment.empty()) return false;
    auto size = fs.FileSize(JoinPath(kDir, scanned->tail.last_segment));
    return size && *size == segment_bytes_max && scanned->tail.last_segment_size < *size;
}

TEST_F(JournalTest, PreallocatedSegmentsAreFilledCutAtRotationAndContinued) {
    constexpr uint64_t kSegmentBytes = 4096;
    auto writer = OpenWriter(JournalTail{}, kSegmentBytes);
    uint64_t n = 0;
    // The first segment grows by appends; once the preparer is done, the next append starts its
    // segment. Go on until a few prepared segments were filled and the last is one too.
    while (n < 5000 && !(Segments().size() >= 4 && LastSegmentPreallocated(fs_, kSegmentBytes))) {
        AppendOne(*writer, ++n);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_TRUE(LastSegmentPreallocated(fs_, kSegmentBytes)) << n << " records";
    // Only the last segment ends in zeros: a zero tail anywhere else would be corruption.
    Read read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_TRUE(read.result) << read.result.error().ToString();
    ASSERT_EQ(read.records.size(), n);
    EXPECT_EQ(read.result->torn_bytes, 0u);
    const std::vector<std::string> segments = Segments();
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
        EXPECT_LE(*fs_.FileSize(JoinPath(kDir, segments[i])), kSegmentBytes) << segments[i];
    }
    // The end the writer reports is where the records end.
    const JournalEnd end = writer->end();
    EXPECT_EQ(end.seq, n);
    EXPECT_EQ(SegmentName(end.segment_first_seq), read.result->tail.last_segment);
    EXPECT_EQ(end.offset, read.result->tail.last_segment_size);
    // A tailer given that end reads every record, across the cut segments and up to the zeros.
    Tailer tailer(fs_, kDir, 0);
    uint64_t tailed = 0;
    auto count = [&](const RecordView& r) {
        EXPECT_EQ(r.seq, ++tailed);
        EXPECT_EQ(r.payload, Payload(r.seq));
        return Status::Ok();
    };
    while (tailed < n) {
        auto polled = tailer.Poll(end, 7, count);
        ASSERT_TRUE(polled) << polled.error().ToString();
        ASSERT_GT(*polled, 0u);
    }
    EXPECT_EQ(*tailer.Poll(end, 7, count), 0u);

    // A new writer goes on where the records end, over the zeros.
    writer.reset();
    writer = OpenWriter(read.result->tail, kSegmentBytes);
    for (uint64_t k = 0; k < 5; ++k) AppendOne(*writer, ++n);
    read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_TRUE(read.result) << read.result.error().ToString();
    ASSERT_EQ(read.records.size(), n);
    for (uint64_t k = 1; k <= n; ++k) EXPECT_EQ(read.records[k - 1].second, Payload(k));
}

TEST_F(JournalTest, LeftoverPreparedSegmentIsWrittenAgain) {
    const std::string prepared = JoinPath(kDir, kPreallocatedSegmentName);
    auto file = fs_.OpenAppendable(prepared);
    ASSERT_TRUE((*file)->Append("not zeros", 9).ok());
    auto writer = OpenWriter(JournalTail{}, 2048);
    AppendOne(*writer, 1);
    writer.reset();
    // Removed at open; the preparer may have written it again since: then only zeros.
    if (fs_.Exists(prepared)) {
        const std::string bytes = *fs_.ReadFile(prepared);
        EXPECT_EQ(bytes.find_first_not_of('\0'), std::string::npos);
    }
}

TEST_F(JournalTest, PowerCutsWithPreallocatedSegmentsKeepEverySyncedRecord) {
    for (uint64_t seed = 0; seed < 30; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        SimFileSystem fs(seed);
        ASSERT_TRUE(fs.CreateDir("data").ok());
        ASSERT_TRUE(fs.CreateDir(kDir).ok());
        JournalTail tail;
        uint64_t synced = 0;
        for (int life = 0; life < 3; ++life) {
            auto writer = JournalWriter::Open(fs, kDir, tail, WriterOptions{1024});
            ASSERT_TRUE(writer) << writer.error().ToString();
            const uint64_t appended = 20 + (seed * 7 + life * 13) % 40;
            for (uint64_t k = 0; k < appended; ++k) {
                const uint64_t n = (*writer)->next_seq();
                std::string record(kRecordHeaderSize, '\0');
                record += Payload(n);
                uint64_t seq = 0;
                ASSERT_TRUE((*writer)->Append(RecordType::kBatch, n, &record, &seq).ok());
                // The last few stay unsynced: the cut may keep some of them, torn or whole.
                if (k + 3 < appended) {
                    ASSERT_TRUE((*writer)->Sync().ok());
                    synced = seq;
                }
                if (k % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
            }
            fs.PowerCut();
            writer->reset();  // the process that wrote it is gone
            std::vector<uint64_t> seqs;
            auto result = RecoverSeqs(fs, &seqs);
            ASSERT_TRUE(result) << result.error().ToString();
            ASSERT_GE(seqs.size(), synced);
            for (uint64_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1);
            tail = result->tail;
        }
    }
}

TEST_F(JournalTest, FlippedBitMidJournalRefusesAndNamesTheOffset) {
    auto writer = OpenWriter(JournalTail{}, 1 << 20);
    Append(*writer, 1, 20, true);
    const std::string segment = Segments().front();
    // Corrupt a byte inside the payload of a record in the middle.
    uint64_t target_offset = 0;
    (void)Scan(fs_, kDir, ScanOptions{}, [&](const RecordView& r) {
        if (r.seq == 10) target_offset = r.offset;
        return Status::Ok();
    });
    fs_.CorruptByte(kDir + "/" + segment, target_offset + kRecordHeaderSize + 3);
    Read read = ScanAll(fs_, ScanOptions{.repair = true});
    ASSERT_FALSE(read.result);
    EXPECT_EQ(read.result.error().code(), StatusCode::kCorruption);
    const std::string message = read.result.error().message();
    EXPECT_NE(message.find(segment), std::string::npos) << message;
    EXPECT_NE(message.find("offset " + std::to_string(target_offset)), std::string::npos)
        << message;
    // Nothing was changed by the refusal.
    EXPECT_EQ(ScanAll(fs_).records.size(), 9u);

    // The explicit recovery mode drops the journal from the corruption on.
    read = ScanAll(fs_, ScanOptions{.repair = true, .mode = RecoveryMode::kTruncateAtCorruption});
    ASSERT_TRUE(read.result);
    EXPECT_EQ(read.records.size(), 9u);
    EXPECT_GT(read.result->torn_bytes, 0u);
    read = ScanAll(fs_);
    ASSERT_TRUE(read.result);
    EXPECT_EQ(read.result->tail.next_seq, 10u);
}

TEST_F(JournalTest, RemovedOrReorderedRecordsAreDetected) {
    auto writer = OpenWriter(JournalTail{}, 600);
    Append(*writer, 1, 30, true);
    auto segments = Segments();
    ASSERT_GE(segments.size(), 4u);
    // Remove a middle segment: the sequence has a gap.
    auto saved = *fs_.ReadFile(kDir + "/" + segments[1]);
    ASSERT_TRUE(fs_.Remove(kDir + "/" + segments[1]).ok());
    Read read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_FALSE(read.result);
    EXPECT_NE(read.result.error().message().find("missing records"), std::string::npos);
    auto file = fs_.OpenAppendable(kDir + "/" + segments[1]);
    ASSERT_TRUE((*file)->Append(saved.data(), saved.size()).ok());
    ASSERT_TRUE(ScanAll(fs_, ScanOptions{.from_first_segment = true}).result);

    // Swap the first two records of a segment (both with valid CRCs): the order is wrong.
    std::string data = *fs_.ReadFile(kDir + "/" + segments[2]);
    RecordHeader first{};
    std::memcpy(&first, data.data() + kSegmentHeaderSize, sizeof(first));
    size_t first_size = kRecordHeaderSize + first.payload_length;
    RecordHeader second{};
    std::memcpy(&second, data.data() + kSegmentHeaderSize + first_size, sizeof(second));
    size_t second_size = kRecordHeaderSize + second.payload_length;
    std::string swapped = data.substr(0, kSegmentHeaderSize) +
                          data.substr(kSegmentHeaderSize + first_size, second_size) +
                          data.substr(kSegmentHeaderSize, first_size) +
                          data.substr(kSegmentHeaderSize + first_size + second_size);
    ASSERT_TRUE(fs_.Remove(kDir + "/" + segments[2]).ok());
    file = fs_.OpenAppendable(kDir + "/" + segments[2]);
    ASSERT_TRUE((*file)->Append(swapped.data(), swapped.size()).ok());
    read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_FALSE(read.result);
    EXPECT_NE(read.result.error().message().find("sequence"), std::string::npos);
}

TEST_F(JournalTest, AlteredRecordWithRecomputedCrcBreaksTheChain) {
    auto writer = OpenWriter(JournalTail{}, 1 << 20);
    Append(*writer, 1, 5, true);
    const std::string path = kDir + "/" + Segments().front();
    std::string data = *fs_.ReadFile(path);
    // Change record 2's payload and fix its CRC, as a forger would.
    RecordHeader first{};
    std::memcpy(&first, data.data() + kSegmentHeaderSize, sizeof(first));
    size_t offset = kSegmentHeaderSize + kRecordHeaderSize + first.payload_length;
    RecordHeader second{};
    std::memcpy(&second, data.data() + offset, sizeof(second));
    data[offset + kRecordHeaderSize] ^= 1;
    uint32_t crc = crc32c::Mask(
        crc32c::Value(data.data() + offset + 4, kRecordHeaderSize + second.payload_length - 4));
    std::memcpy(data.data() + offset, &crc, 4);
    ASSERT_TRUE(fs_.Remove(path).ok());
    auto file = fs_.OpenAppendable(path);
    ASSERT_TRUE((*file)->Append(data.data(), data.size()).ok());
    Read read = ScanAll(fs_, ScanOptions{.from_first_segment = true});
    ASSERT_FALSE(read.result);
    EXPECT_NE(read.result.error().message().find("hash chain broken"), std::string::npos)
        << read.result.error().message();
}

TEST_F(JournalTest, FailedFsyncPoisonsTheWriter) {
    // Without preallocation: the preparer's syncs would take the injected failure.
    auto opened =
        JournalWriter::Open(fs_, kDir, JournalTail{},
                            WriterOptions{.segment_bytes_max = 1 << 20, .preallocate = false});
    ASSERT_TRUE(opened);
    auto writer = std::move(*opened);
    Append(*writer, 1, 3, true);
    fs_.FailSyncAfter(0);
    std::string record(kRecordHeaderSize, '\0');
    record += "x";
    uint64_t seq = 0;
    ASSERT_TRUE(writer->Append(RecordType::kBatch, 1, &record, &seq).ok());
    EXPECT_FALSE(writer->Sync().ok());
    EXPECT_TRUE(writer->poisoned());
    // Every later call fails, even though the file system would now accept it.
    record.resize(kRecordHeaderSize + 1);
    EXPECT_EQ(writer->Append(RecordType::kBatch, 1, &record, &seq).code(), StatusCode::kStopped);
    EXPECT_EQ(writer->Sync().code(), StatusCode::kStopped);
}

}  // namespace
}  // namespace bursar::journal

namespace bursar::journal {
namespace {

TEST_F(JournalTest, TailerFollowsTheWriterAcrossSegments) {
    auto writer = OpenWriter(JournalTail{}, 700);
    Tailer tailer(fs_, kDir, 0);
    std::vector<uint64_t> seen;
    auto collect = [&](const RecordView& r) {
        EXPECT_EQ(r.payload, Payload(r.seq));
        seen.push_back(r.seq);
        return Status::Ok();
    };
    Append(*writer, 1, 5, true);
    ASSERT_EQ(*tailer.Poll(3, 100, collect), 3u);  // only up to the committed position
    Append(*writer, 6, 40, true);
    ASSERT_EQ(*tailer.Poll(40, 10, collect), 10u);  // at most records_max
    ASSERT_EQ(*tailer.Poll(40, 100, collect), 27u);
    EXPECT_EQ(*tailer.Poll(40, 100, collect), 0u);
    ASSERT_EQ(seen.size(), 40u);
    for (uint64_t i = 0; i < 40; ++i) EXPECT_EQ(seen[i], i + 1);
    // A new tailer can start in the middle.
    Tailer late(fs_, kDir, 33);
    seen.clear();
    ASSERT_EQ(*late.Poll(40, 100, collect), 7u);
    EXPECT_EQ(seen.front(), 34u);
}

}  // namespace
}  // namespace bursar::journal
