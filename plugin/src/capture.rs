//! Analyze & Mix's path off the audio thread: the dry vocal and the sidechain, block by block, into
//! a preallocated single-producer single-consumer ring (`rtrb`) the analysis worker drains.
//!
//! The audio thread is the first to see the trigger parameter change, so it marks the start and
//! the end of a listening pass in the ring itself, in order with the audio: the worker hears
//! exactly the blocks played between the two marks, however late it wakes up (the capture of a
//! whole file equals the file, which is what lets a test compare the plug-in with `automix
//! analyze`). The ring holds two seconds; the worker drains it every 10 ms. A full ring loses
//! audio, never a mark, and counts what it lost. Except offline (a bounce, faster than real
//! time), where nobody listens live: there the audio thread waits for room, up to a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Frames per chunk: one 64-frame host block, or a slice of a longer one.
pub const CHUNK_FRAMES: usize = 64;
/// Vocal left and right, backing left and right, interleaved in that order.
pub const CHANNELS: usize = 4;
/// Seconds of audio the ring holds before the audio thread has to drop some.
const RING_SECONDS: f32 = 2.0;
/// Offline, how long a block may wait for room in the ring, in 1 ms steps.
const OFFLINE_WAIT_MS: u32 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The trigger went on: a listening pass starts (the chunk holds no audio).
    Start,
    Audio,
    /// The trigger went off: the pass is over (no audio).
    Stop,
}

/// One piece of the ring. Plain data, moved by value: nothing to allocate or free.
#[derive(Clone, Copy, Debug)]
pub struct Chunk {
    pub mark: Mark,
    pub sample_rate: f32,
    /// The host's tempo at this block, BPM; NaN when it gives none.
    pub tempo: f32,
    pub frames: usize,
    pub data: [f32; CHUNK_FRAMES * CHANNELS],
}

impl Chunk {
    fn mark(mark: Mark, sample_rate: f32) -> Chunk {
        Chunk {
            mark,
            sample_rate,
            tempo: f32::NAN,
            frames: 0,
            data: [0.0; CHUNK_FRAMES * CHANNELS],
        }
    }

    /// The audio, interleaved over [`CHANNELS`].
    pub fn frames(&self) -> &[f32] {
        &self.data[..self.frames * CHANNELS]
    }
}

pub type Receiver = rtrb::Consumer<Chunk>;

/// The audio thread's end. Lives in the plug-in; a new ring comes with each activation (the rate
/// may have changed), the trigger's last state stays.
pub struct CaptureSender {
    producer: Option<rtrb::Producer<Chunk>>,
    sample_rate: f32,
    /// Rendering offline: waiting for the worker is allowed.
    offline: bool,
    /// The trigger's state as of the last block: edges become marks.
    on: bool,
    /// A mark the full ring could not take yet; sent before any more audio.
    pending: Option<Mark>,
    lost_frames: Arc<AtomicU64>,
}

/// What the host says about the block.
#[derive(Clone, Copy, Debug)]
pub struct BlockInfo {
    /// The trigger parameter.
    pub on: bool,
    /// The transport plays (or the host tells nothing about a transport: live input counts).
    pub playing: bool,
    pub tempo: Option<f64>,
}

impl CaptureSender {
    pub fn new(lost_frames: Arc<AtomicU64>) -> Self {
        CaptureSender {
            producer: None,
            sample_rate: 0.0,
            offline: false,
            on: false,
            pending: None,
            lost_frames,
        }
    }

    /// A new ring for a new activation (main thread; allocates). Returns the worker's end.
    pub fn open(&mut self, sample_rate: f32, offline: bool) -> Receiver {
        let chunks = (RING_SECONDS * sample_rate / CHUNK_FRAMES as f32).ceil() as usize;
        let (producer, consumer) = rtrb::RingBuffer::new(chunks.max(16));
        self.producer = Some(producer);
        self.sample_rate = sample_rate;
        self.offline = offline;
        self.pending = None;
        consumer
    }

    /// One host block (audio thread; never allocates or blocks). `vocal` is the dry input (a mono
    /// track gives its one channel twice); `backing` the sidechain, if the host connected one.
    pub fn block(&mut self, info: BlockInfo, vocal: [&[f32]; 2], backing: Option<[&[f32]; 2]>) {
        let Some(producer) = self.producer.as_mut() else {
            return;
        };
        if info.on != self.on {
            self.on = info.on;
            // an edge replaces a mark still waiting: only the latest state matters
            self.pending = Some(if info.on { Mark::Start } else { Mark::Stop });
        }
        let offline = self.offline;
        if let Some(mark) = self.pending {
            if !room(producer, offline) {
                self.count_lost(vocal, info);
                return;
            }
            let _ = producer.push(Chunk::mark(mark, self.sample_rate));
            self.pending = None;
        }
        if !(info.on && info.playing) {
            return;
        }
        let frames = vocal[0].len().min(vocal[1].len());
        let tempo = info.tempo.map_or(f32::NAN, |t| t as f32);
        let mut start = 0;
        while start < frames {
            let n = CHUNK_FRAMES.min(frames - start);
            if !room(producer, offline) {
                self.lost_frames
                    .fetch_add((frames - start) as u64, Ordering::Relaxed);
                return;
            }
            let Ok(mut slot) = producer.write_chunk_uninit(1) else {
                self.lost_frames
                    .fetch_add((frames - start) as u64, Ordering::Relaxed);
                return;
            };
            let (first, _) = slot.as_mut_slices();
            let mut chunk = Chunk::mark(Mark::Audio, self.sample_rate);
            chunk.tempo = tempo;
            chunk.frames = n;
            let (vl, vr) = (&vocal[0][start..start + n], &vocal[1][start..start + n]);
            for (i, frame) in chunk.data.chunks_exact_mut(CHANNELS).take(n).enumerate() {
                frame[0] = vl[i];
                frame[1] = vr[i];
                if let Some([bl, br]) = backing {
                    frame[2] = bl.get(start + i).copied().unwrap_or(0.0);
                    frame[3] = br.get(start + i).copied().unwrap_or(0.0);
                }
            }
            first[0].write(chunk);
            // SAFETY: the one slot was written just above.
            unsafe { slot.commit_all() };
            start += n;
        }
    }

    fn count_lost(&self, vocal: [&[f32]; 2], info: BlockInfo) {
        if info.on && info.playing {
            let frames = vocal[0].len();
            self.lost_frames.fetch_add(frames as u64, Ordering::Relaxed);
        }
    }
}

/// Whether the ring has room for a chunk; offline, after waiting for it if need be.
fn room(producer: &rtrb::Producer<Chunk>, offline: bool) -> bool {
    let mut waited = 0;
    while producer.is_full() {
        if !offline || waited == OFFLINE_WAIT_MS || producer.is_abandoned() {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        waited += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(on: bool, playing: bool) -> BlockInfo {
        BlockInfo {
            on,
            playing,
            tempo: Some(120.0),
        }
    }

    fn drain(rx: &mut Receiver) -> Vec<Chunk> {
        std::iter::from_fn(|| rx.pop().ok()).collect()
    }

    #[test]
    fn a_pass_is_its_marks_around_exactly_the_audio_played_between_them() {
        let lost = Arc::new(AtomicU64::new(0));
        let mut tx = CaptureSender::new(lost.clone());
        let mut rx = tx.open(48_000.0, false);
        let l: Vec<f32> = (0..150).map(|i| i as f32).collect();
        let r: Vec<f32> = (0..150).map(|i| -(i as f32)).collect();
        let b: Vec<f32> = (0..150).map(|i| 1000.0 + i as f32).collect();
        tx.block(info(false, true), [&l, &r], Some([&b, &b])); // before the press
        tx.block(info(true, false), [&l, &r], Some([&b, &b])); // pressed, transport stopped
        tx.block(info(true, true), [&l, &r], Some([&b, &b]));
        tx.block(info(true, true), [&l[..7], &l[..7]], None); // a mono block without sidechain
        tx.block(info(false, true), [&l, &r], Some([&b, &b]));
        let chunks = drain(&mut rx);
        let marks: Vec<Mark> = chunks.iter().map(|c| c.mark).collect();
        use Mark::*;
        assert_eq!(marks, [Start, Audio, Audio, Audio, Audio, Stop]);
        let audio: Vec<f32> = chunks.iter().flat_map(|c| c.frames().to_vec()).collect();
        assert_eq!(audio.len(), (150 + 7) * CHANNELS);
        for i in 0..150 {
            assert_eq!(&audio[i * 4..i * 4 + 4], &[l[i], r[i], b[i], b[i]]);
        }
        assert_eq!(&audio[600..604], &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(audio[604], 1.0);
        assert_eq!(audio[605], 1.0); // mono on both sides
        assert_eq!(chunks[1].tempo, 120.0);
        assert_eq!(lost.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_ring_loses_audio_and_counts_it_but_never_a_mark() {
        let lost = Arc::new(AtomicU64::new(0));
        let mut tx = CaptureSender::new(lost.clone());
        let mut rx = tx.open(512.0, false); // two seconds: a ring of 16 chunks
        let x = vec![0.5f32; 64];
        for _ in 0..20 {
            tx.block(info(true, true), [&x, &x], None);
        }
        assert_eq!(lost.load(Ordering::Relaxed), 5 * 64);
        tx.block(info(false, true), [&x, &x], None); // full: the stop waits
        assert_eq!(rx.pop().unwrap().mark, Mark::Start);
        tx.block(info(false, true), [&x, &x], None); // now it goes in
        let chunks = drain(&mut rx);
        assert_eq!(chunks.len(), 16);
        assert_eq!(chunks.last().unwrap().mark, Mark::Stop);
    }

    #[test]
    fn offline_a_full_ring_waits_for_the_worker_and_loses_nothing() {
        let lost = Arc::new(AtomicU64::new(0));
        let mut tx = CaptureSender::new(lost.clone());
        let mut rx = tx.open(512.0, true); // 16 chunks, for 101 blocks of audio
        let worker = std::thread::spawn(move || {
            let (mut frames, mut marks) = (0, Vec::new());
            while marks.last() != Some(&Mark::Stop) {
                match rx.pop() {
                    Ok(c) if c.mark == Mark::Audio => frames += c.frames,
                    Ok(c) => marks.push(c.mark),
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
                }
            }
            (frames, marks)
        });
        let x = vec![0.5f32; 64];
        tx.block(info(true, true), [&x[..36], &x[..36]], None);
        for _ in 0..100 {
            tx.block(info(true, true), [&x, &x], None);
        }
        tx.block(info(false, true), [&x, &x], None);
        let (frames, marks) = worker.join().unwrap();
        assert_eq!(frames, 36 + 100 * 64);
        assert_eq!(marks, [Mark::Start, Mark::Stop]);
        assert_eq!(lost.load(Ordering::Relaxed), 0);
    }
}
