//! Analyze & Mix's path off the audio thread: the dry vocal and the sidechain, block by block, into
//! a preallocated single-producer single-consumer ring (`rtrb`) the analysis worker drains.
//!
//! The audio thread is the first to see the trigger parameter change, so it marks the start and
//! the end of a listening pass in the ring itself, in order with the audio: the worker hears
//! exactly the blocks played between the two marks, however late it wakes up (the capture of a
//! whole file equals the file, which is what lets a test compare the plug-in with `automix
//! analyze`). A full ring loses audio, never a mark, and counts what it lost. Offline (a bounce,
//! faster than real time, nobody listening live) the audio thread waits for room instead, up to
//! a second.
//!
//! Each block is first gathered in a staging chunk the audio thread owns (it stays in its cache),
//! four straight copies into four planes, and goes into the ring 1024 frames at a time in one copy.
//! Written block by block, every 64 frames cost a round of cache-line transfers from the worker's
//! core. What listening costs `process()` (`benches/plugin_cpu.rs`, and experiments with the worker
//! changed): the audio thread's own copying about +0.8 %, handing chunks to the worker's core
//! about +2.5 %, and with the worker analysing concurrently +5–9 % in all on the 2-core test
//! machine, the rest being the worker's work slowing the audio thread through shared caches.

/// Frames per chunk (about 21 ms at 48 kHz).
pub const CHUNK_FRAMES: usize = 1024;
/// Vocal left and right, backing left and right, in that order, each a plane of
/// [`CHUNK_FRAMES`] (planes: a block goes in as four straight copies).
pub const CHANNELS: usize = 4;
/// Seconds of audio the ring holds; the worker drains it every 10 ms.
const RING_SECONDS: f32 = 0.5;
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
    /// The host's tempo at the chunk's last block, BPM; NaN when it gives none.
    pub tempo: f32,
    pub frames: usize,
    /// Frames this sender had lost by the time the chunk was sent (for a mark: by the time of
    /// its edge), so the worker can tell what a pass lost however late it drains.
    pub lost: u64,
    pub data: [f32; CHUNK_FRAMES * CHANNELS],
}

impl Chunk {
    fn mark(mark: Mark, sample_rate: f32) -> Chunk {
        Chunk {
            mark,
            sample_rate,
            tempo: f32::NAN,
            frames: 0,
            lost: 0,
            data: [0.0; CHUNK_FRAMES * CHANNELS],
        }
    }

    /// One channel's audio (0, 1: vocal; 2, 3: backing).
    pub fn channel(&self, c: usize) -> &[f32] {
        &self.data[c * CHUNK_FRAMES..c * CHUNK_FRAMES + self.frames]
    }
}

pub type Receiver = rtrb::Consumer<Chunk>;

/// The audio thread's end. Lives in the plug-in; a new ring comes with each activation (the rate
/// may have changed), the trigger's last state stays.
pub struct CaptureSender {
    producer: Option<rtrb::Producer<Chunk>>,
    /// Audio gathered for the next chunk (boxed: 16 KB, allocated once in `new`).
    staging: Box<Chunk>,
    /// Rendering offline (as activated): waiting for the worker is allowed.
    offline: bool,
    /// What the host says of the current block, which overrides `offline` (Ardour activates for
    /// real time and exports in freewheel, saying so only per block).
    offline_now: Option<bool>,
    /// The trigger's state as of the last block: edges become marks.
    on: bool,
    /// A mark the full ring could not take yet; sent before any more audio.
    pending: Option<Mark>,
    /// Frames lost so far, and as of the last edge (the chunks carry them to the worker).
    lost: u64,
    lost_at_edge: u64,
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

impl Default for CaptureSender {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureSender {
    pub fn new() -> Self {
        CaptureSender {
            producer: None,
            staging: Box::new(Chunk::mark(Mark::Audio, 0.0)),
            offline: false,
            offline_now: None,
            on: false,
            pending: None,
            lost: 0,
            lost_at_edge: 0,
        }
    }

    /// The host's word on the blocks from now on: rendered faster than real time (`Some(true)`),
    /// in real time, or not said (`None`: as activated).
    pub fn set_offline_now(&mut self, offline: Option<bool>) {
        self.offline_now = offline;
    }

    fn offline(&self) -> bool {
        self.offline_now.unwrap_or(self.offline)
    }

    /// Frames lost so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// A new ring for a new activation (main thread; allocates). Returns the worker's end.
    pub fn open(&mut self, sample_rate: f32, offline: bool) -> Receiver {
        // what is staged goes to the old ring, which the worker drains before it takes the new
        self.close();
        let chunks = (RING_SECONDS * sample_rate / CHUNK_FRAMES as f32).ceil() as usize;
        let (producer, consumer) = rtrb::RingBuffer::new(chunks.max(4));
        self.producer = Some(producer);
        self.staging.sample_rate = sample_rate;
        self.offline = offline;
        self.pending = None;
        consumer
    }

    /// Sends what is staged into the current ring (deactivation: a pass that goes on across
    /// it, for a new block size, loses nothing).
    pub fn close(&mut self) {
        self.flush();
    }

    /// One host block (audio thread; never allocates or blocks). `vocal` is the dry input (a mono
    /// track gives its one channel twice); `backing` the sidechain, if the host connected one.
    pub fn block(&mut self, info: BlockInfo, vocal: [&[f32]; 2], backing: Option<[&[f32]; 2]>) {
        if self.producer.is_none() {
            return;
        }
        if info.on != self.on {
            self.on = info.on;
            // the pass's audio goes before its end mark; an edge replaces a mark still waiting
            self.flush();
            self.pending = Some(if info.on { Mark::Start } else { Mark::Stop });
            self.lost_at_edge = self.lost;
        }
        if let Some(mark) = self.pending {
            // the staging chunk is empty here (flushed at the edge): it carries the mark
            self.staging.mark = mark;
            self.staging.frames = 0;
            self.staging.lost = self.lost_at_edge;
            let offline = self.offline();
            let sent = push(self.producer.as_mut(), offline, &self.staging);
            self.staging.mark = Mark::Audio;
            if !sent {
                self.count_lost(vocal[0].len(), info);
                return;
            }
            self.pending = None;
        }
        if !(info.on && info.playing) {
            return;
        }
        let frames = vocal[0].len().min(vocal[1].len());
        let side = backing.and_then(|[l, r]| Some((l.get(..frames)?, r.get(..frames)?)));
        self.staging.tempo = info.tempo.map_or(f32::NAN, |t| t as f32);
        let mut start = 0;
        while start < frames {
            let at = self.staging.frames;
            let n = (CHUNK_FRAMES - at).min(frames - start);
            let span = |c: usize| c * CHUNK_FRAMES + at..c * CHUNK_FRAMES + at + n;
            let data = &mut self.staging.data;
            data[span(0)].copy_from_slice(&vocal[0][start..start + n]);
            data[span(1)].copy_from_slice(&vocal[1][start..start + n]);
            match side {
                Some((bl, br)) => {
                    data[span(2)].copy_from_slice(&bl[start..start + n]);
                    data[span(3)].copy_from_slice(&br[start..start + n]);
                }
                // no sidechain (or a short one, which hosts do not send): silence
                None => {
                    data[span(2)].fill(0.0);
                    data[span(3)].fill(0.0);
                }
            }
            self.staging.frames += n;
            start += n;
            if self.staging.frames == CHUNK_FRAMES {
                self.flush();
            }
        }
    }

    /// Sends the staged audio, if any (lost, and counted, when the ring is full).
    fn flush(&mut self) {
        let frames = self.staging.frames;
        if frames == 0 {
            return;
        }
        self.staging.mark = Mark::Audio;
        self.staging.lost = self.lost;
        let offline = self.offline();
        if !push(self.producer.as_mut(), offline, &self.staging) {
            self.add_lost(frames);
        }
        self.staging.frames = 0;
    }

    fn count_lost(&mut self, frames: usize, info: BlockInfo) {
        if info.on && info.playing {
            self.add_lost(frames);
        }
    }

    fn add_lost(&mut self, frames: usize) {
        self.lost += frames as u64;
    }
}

/// Copies `chunk` into the ring; false when there is no room (offline, after waiting for some).
fn push(producer: Option<&mut rtrb::Producer<Chunk>>, offline: bool, chunk: &Chunk) -> bool {
    let Some(producer) = producer else {
        return false;
    };
    let mut waited = 0;
    while producer.is_full() {
        if !offline || waited == OFFLINE_WAIT_MS || producer.is_abandoned() {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        waited += 1;
    }
    let Ok(mut slot) = producer.write_chunk_uninit(1) else {
        return false;
    };
    let (first, _) = slot.as_mut_slices();
    first[0].write(*chunk);
    // SAFETY: the one slot was written just above.
    unsafe { slot.commit_all() };
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
        let mut tx = CaptureSender::new();
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
        assert_eq!(marks, [Start, Audio, Stop]);
        let audio = &chunks[1];
        assert_eq!(audio.frames, 150 + 7);
        for (c, want) in [&l, &r, &b, &b].into_iter().enumerate() {
            assert_eq!(&audio.channel(c)[..150], &want[..], "channel {c}");
        }
        // the mono block without sidechain: the one channel on both sides, silence beside it
        assert_eq!(&audio.channel(0)[150..], &l[..7]);
        assert_eq!(&audio.channel(1)[150..], &l[..7]);
        assert_eq!(&audio.channel(2)[150..], &[0.0; 7]);
        assert_eq!(&audio.channel(3)[150..], &[0.0; 7]);
        assert_eq!(chunks[1].tempo, 120.0);
        assert_eq!(tx.lost(), 0);
    }

    #[test]
    fn a_full_ring_loses_audio_and_counts_it_but_never_a_mark() {
        let mut tx = CaptureSender::new();
        let mut rx = tx.open(2048.0, false); // the smallest ring: 4 chunks
        let x = vec![0.5f32; 64];
        let per_chunk = CHUNK_FRAMES / 64;
        // the start mark and three chunks fill it; the fourth chunk is lost
        for _ in 0..4 * per_chunk {
            tx.block(info(true, true), [&x, &x], None);
        }
        assert_eq!(tx.lost(), CHUNK_FRAMES as u64);
        tx.block(info(false, true), [&x, &x], None); // full: the stop waits
        assert_eq!(rx.pop().unwrap().mark, Mark::Start);
        tx.block(info(false, true), [&x, &x], None); // now it goes in
        let chunks = drain(&mut rx);
        let marks: Vec<Mark> = chunks.iter().map(|c| c.mark).collect();
        assert_eq!(marks, [Mark::Audio, Mark::Audio, Mark::Audio, Mark::Stop]);
    }

    #[test]
    fn a_new_activation_sends_what_was_staged_to_the_old_ring() {
        let mut tx = CaptureSender::new();
        let mut old = tx.open(48_000.0, false);
        let x = vec![0.5f32; 100];
        tx.block(info(true, true), [&x, &x], None);
        let mut new = tx.open(48_000.0, false);
        tx.block(info(false, true), [&x, &x], None);
        let old: Vec<(Mark, usize)> = drain(&mut old).iter().map(|c| (c.mark, c.frames)).collect();
        assert_eq!(old, [(Mark::Start, 0), (Mark::Audio, 100)]);
        assert_eq!(drain(&mut new)[0].mark, Mark::Stop);
    }

    #[test]
    fn offline_a_full_ring_waits_for_the_worker_and_loses_nothing() {
        // activated for offline rendering; or for real time, with the host saying per block that
        // it renders faster (Ardour's export in freewheel)
        for (activated, per_block) in [(true, None), (false, Some(true))] {
            let mut tx = CaptureSender::new();
            let mut rx = tx.open(2048.0, activated); // 4 chunks, for 101 blocks of audio
            tx.set_offline_now(per_block);
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
            assert_eq!(tx.lost(), 0);
        }
    }
}
