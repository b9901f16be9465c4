import Foundation
import Testing

@testable import NativeClients

@Suite("Releasing clean file pages")
struct CleanFilePagesTests {
    static let smaps = """
        55d0c0000000-55d0c0100000 r--p 00000000 fd:01 1234                       /usr/local/bin/clearml-probe
        Size:               1024 kB
        Rss:                 704 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        55d0c0100000-55d0c1a00000 r-xp 00100000 fd:01 1234                       /usr/local/bin/clearml-probe
        Rss:               18844 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        55d0c1a00000-55d0c1b00000 r--p 01a00000 fd:01 1234                       /usr/local/bin/clearml-probe
        Rss:                 700 kB
        Anonymous:           700 kB
        Swap:                  0 kB
        55d0c1b00000-55d0c4000000 rw-p 01b00000 fd:01 1234                       /usr/local/bin/clearml-probe
        Rss:                3576 kB
        Anonymous:          2100 kB
        Swap:                  0 kB
        55d0c4000000-55d0c4100000 rw-p 00000000 00:00 0                          [heap]
        Rss:                 524 kB
        Anonymous:           524 kB
        Swap:                  0 kB
        7f0000000000-7f0000200000 r-xp 00000000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                1908 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000200000-7f0000300000 r-xp 00000000 fd:01 98                         /usr/lib/x86_64-linux-gnu/sasl2/libplain.so.2.0.25
        Rss:                  20 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000300000-7f0000400000 r-xs 00000000 fd:01 97                         /dev/shm/shared segment
        Rss:                  12 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000400000-7f0000401000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   4 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000500000-7f0000600000 r-xp 00000000 fd:01 96                         /usr/lib/old.so (deleted)
        Rss:                  40 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000600000-7f0000700000 r--p 00000000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                   0 kB
        Anonymous:             0 kB
        Swap:                  0 kB
        7f0000700000-7f0000800000 r--p 00100000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                  12 kB
        Anonymous:             0 kB
        Swap:                  8 kB
        7f0000800000-7f0000900000 r-xp 00000000 fd:01 95                         /usr/local/bin/clearml-probe
        Rss:                  16 kB
        garbled-header r-xp 00000000 fd:01 95
        Rss:                  16 kB
        Anonymous:             0 kB
        Swap:                  0 kB

        """

    static let startup: Set<String> = [
        "/usr/local/bin/clearml-probe", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/dev/shm/shared segment",
        "/usr/lib/old.so (deleted)",
    ]

    @Test func parsesRangesPermissionsPathsAndSizes() {
        let mappings = CleanFilePages.parse(smaps: Self.smaps)
        #expect(mappings.count == 13, "the garbled header is no mapping")
        #expect(
            mappings[1]
                == CleanFilePages.Mapping(
                    start: 0x55d0_c010_0000, end: 0x55d0_c1a0_0000, permissions: "r-xp",
                    path: "/usr/local/bin/clearml-probe", residentKB: 18844, anonymousKB: 0, swapKB: 0))
        #expect(mappings[7].path == "/dev/shm/shared segment", "a path with a space is kept whole")
        #expect(mappings[4].path == "[heap]" && mappings[4].anonymousKB == 524)
        #expect(
            mappings[12].residentKB == 16 && mappings[12].anonymousKB == nil,
            "the fields after a garbled header are not the previous mapping's")
    }

    @Test func onlyCleanReadOnlyPrivateMappingsOfStartUpFilesAreReleased() {
        let chosen = CleanFilePages.parse(smaps: Self.smaps).filter {
            CleanFilePages.releasable($0, startupFiles: Self.startup)
        }
        // The executable's headers and code and libcrypto's code. Not: the RELRO segment (relocated, private
        // copies), the writable data, the heap, a library loaded after start (it could be unloaded), a shared
        // mapping, the vDSO, a deleted file, a mapping with nothing resident, one whose private pages are swapped
        // out (Anonymous 0, Swap 8), nor one whose smaps entry does not say how many private pages it has.
        #expect(chosen.map(\.start) == [0x55d0_c000_0000, 0x55d0_c010_0000, 0x7f00_0000_0000])
    }

    nonisolated(unsafe) static var written = [0, 0, 0]

    @Test func releasingKeepsTheProcessWorkingAndUnmapsCodePages() throws {
        CleanFilePages.recordStartupFiles()
        Self.written = [7, 11, 13]
        func resident() throws -> Int {
            let text = try #require(CleanFilePages.ownSmaps())
            return CleanFilePages.parse(smaps: text).filter { $0.permissions == "r-xp" && $0.path.hasPrefix("/") }
                .reduce(0) { $0 + $1.residentKB }
        }
        let before = try resident()
        let release = CleanFilePages.release()
        let after = try resident()
        #expect(release.mappings > 0 && release.releasedKB > 0, "\(release)")
        #expect(release.refused.isEmpty, "\(release.refused)")
        // The test runner's own code and the libraries it was started with, libc among them.
        #expect(release.files.contains { $0.hasSuffix("/libc.so.6") }, "\(release.files.sorted())")
        #expect(release.files.count > 2, "\(release.files.sorted())")
        #expect(after < before, "code pages resident before \(before) kB, after \(after) kB")
        // Data written before the release is still there, and code runs (it is mapped again on use).
        #expect(Self.written == [7, 11, 13])
        #expect(String(decoding: Data("still here".utf8), as: UTF8.self) == "still here")
        #expect(try JSONSerialization.jsonObject(with: Data(#"{"a":[1,2]}"#.utf8)) is [String: Any])
    }
}
