//! Ardour as the tests drive it: a private VST3 folder, cache and config; sessions made, filled
//! with audio and run through `ardour7-lua`; the plug-in's state read from the session file; and
//! `automix`'s own answers for the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use automix_tests::{TempDir, release_bundle, shared_audio, workspace, write_wav};

const LUA: &str = "/usr/bin/ardour7-lua";
const SCANNER: &str = "/usr/lib/ardour7/ardour-vst3-scanner";
const SNAPSHOT: &str = "song";
/// Runs of one step before a crash of Ardour's own fails the test (see `Ardour::run_watching`;
/// at the worst rate seen here, 4 crashes in 10 runs, 8 fail together once in 1,500 steps).
const ATTEMPTS: usize = 8;
/// Ardour's default tempo, which the plug-in reads from the host; `automix` is told the same.
const TEMPO: &str = "120";
/// An export preset of our own (Ardour's stock WAV one is 16-bit with dither): 32-bit float at
/// the session's rate, through Ardour's stock "BWAV 32float Export" format.
const PRESET: &str = "9a3f5d0e-6c1b-4b7e-8d2a-5e4f3c2b1a09";
const PRESET_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ExportPreset id="9a3f5d0e-6c1b-4b7e-8d2a-5e4f3c2b1a09" name="Vocal Automix tests: float WAV">
  <ExportFormat id="20b4ab09-6452-4cb3-bd66-b921cdbd2942"/>
  <ExportFilename>
    <Folder relative="1" path="export"/>
    <Field name="label" enabled="0"/>
    <Field name="session" enabled="0"/>
    <Field name="snapshot" enabled="0"/>
    <Field name="timespan" enabled="1"/>
    <Field name="revision" enabled="0"/>
    <Field name="time" enabled="0" value="T_None"/>
    <Field name="date" enabled="0" value="D_None"/>
  </ExportFilename>
</ExportPreset>
"#;

/// Says loudly why a test cannot run; a failure where CI requires real hosts.
fn missing<T>(why: &str) -> Option<T> {
    eprintln!("SKIPPED: {why}");
    assert!(
        std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_none(),
        "AUTOMIX_REQUIRE_PLUGIN is set but {why}"
    );
    None
}

/// The song every session plays: vocadito's sung line over Vibe Ace's backing, 33 s, 44.1 kHz.
pub struct Song {
    pub rate: u32,
    pub vocal: Vec<f32>,
    pub backing: [Vec<f32>; 2],
}

impl Song {
    pub fn read() -> Option<Song> {
        let vocal = shared_audio("clips/vocadito_1_vocal.wav")?;
        let backing = shared_audio("backings/vibe_ace_instrumental.ogg")?;
        let (v, _) = engine::audio_file::read(&vocal).unwrap();
        let (b, _) = engine::audio_file::read(&backing).unwrap();
        assert_eq!(v.sample_rate, b.sample_rate);
        let n = v.frames();
        Some(Song {
            rate: v.sample_rate,
            vocal: v.channels[0].clone(),
            backing: [b.channels[0][..n].to_vec(), b.channels[1][..n].to_vec()],
        })
    }
}

pub struct Ardour {
    dir: TempDir,
    name: String,
    started: Instant,
}

impl Drop for Ardour {
    /// Each session's time in the log (written past the test harness's capture, as CI shows it).
    fn drop(&mut self) {
        use std::io::Write;
        let took = self.started.elapsed().as_secs_f64();
        let mut line = format!("ardour session test `{}` took {took:.1} s", self.name);
        if std::env::var_os("AUTOMIX_KEEP_SESSIONS").is_some() {
            self.dir.keep();
            line += &format!("; its session, script and log kept in {}", self.dir.s(""));
        }
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

impl Ardour {
    /// A private Ardour setup with the release VST3 bundle scanned, or `None` said loudly.
    pub fn find(name: &str) -> Option<Ardour> {
        if !Path::new(LUA).exists() || !Path::new(SCANNER).exists() {
            return missing("Ardour 7 is not installed (apt install ardour; scripts/test.sh does)");
        }
        let bundle = release_bundle("vst3")?;
        let automix = workspace().join("target/release/automix");
        if !automix.exists() {
            return missing("target/release/automix is not built (scripts/setup.sh)");
        }
        let a = Ardour {
            dir: TempDir::new(&format!("ardour-{name}")),
            name: name.to_string(),
            started: Instant::now(),
        };
        let vst3 = a.dir.path("vst3/Vocal Automix.vst3");
        copy_dir(&bundle, &vst3);
        let export = a.dir.path("config/ardour7/export");
        std::fs::create_dir_all(&export).unwrap();
        std::fs::write(export.join("automix-float.preset"), PRESET_XML).unwrap();
        let scanned = a
            .command(SCANNER)
            .env("LD_LIBRARY_PATH", "/usr/lib/ardour7")
            .arg("-q")
            .arg(&vst3)
            .status()
            .unwrap();
        assert!(
            scanned.success(),
            "Ardour's VST3 scanner refused the bundle"
        );
        Some(a)
    }

    /// A command with Ardour's folders private to this test.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("HOME", self.dir.path(""))
            .env("VST3_PATH", self.dir.path("vst3"))
            .env("XDG_CACHE_HOME", self.dir.path("cache"))
            .env("XDG_CONFIG_HOME", self.dir.path("config"));
        c
    }

    pub fn out(&self, file: &str) -> PathBuf {
        self.dir.path("out").join(file)
    }

    fn session_file(&self, snapshot: &str) -> PathBuf {
        self.dir.path(SNAPSHOT).join(format!("{snapshot}.ardour"))
    }

    fn spawn(&self, body: &str) -> (Child, PathBuf) {
        let lib = include_str!("session.lua");
        let globals = format!(
            "SESSION = {:?}\nSNAPSHOT = {SNAPSHOT:?}\nOUT = {:?}\nPRESET = {PRESET:?}\n",
            self.dir.s(SNAPSHOT),
            self.dir.s("out"),
        );
        let script = self.dir.path("scenario.lua");
        // The scenario's Ardour objects live in a function, collected before the session closes:
        // a reference Lua still holds when `close_session()` deletes the session is freed after
        // it, at exit (valgrind: reads of freed memory in `IO::~IO`), and that crashed Ardour.
        let text = format!(
            "{globals}{lib}\nlocal function scenario()\n{body}\nend\nscenario()\n\
             collectgarbage()\ncollectgarbage()\nclose_session()\n"
        );
        std::fs::write(&script, text).unwrap();
        let log = self.dir.path("ardour.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .command(LUA)
            .arg(&script)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        (child, log)
    }

    /// Runs `body` (Lua, after the library) in Ardour; its log. A Lua error fails.
    pub fn run(&self, body: &str) -> String {
        self.run_watching(body, &mut || {})
    }

    /// [`Ardour::run`], calling `meanwhile` every 200 ms while Ardour runs.
    ///
    /// Ardour 7.3's headless tool dies of a signal now and then: its event loop runs every call
    /// meant for the main thread at once, on whichever thread makes it (`luasession.cc`,
    /// `MyEventLoop::call_slot`: "XXX TODO, queue and process during run()"), so signals from
    /// the export, the butler or a plug-in's parameter change run beside the script. Seen with no
    /// plug-in in the session at all; valgrind finds no invalid access in ours over a whole
    /// Analyze & Mix scenario. Such a run is repeated from the session as it was saved before it,
    /// up to `ATTEMPTS` times in all, and the log says so; a Lua error is never repeated.
    fn run_watching(&self, body: &str, meanwhile: &mut dyn FnMut()) -> String {
        let file = self.session_file(SNAPSHOT);
        let saved = std::fs::read(&file).ok();
        for attempt in 1.. {
            let (child, log) = self.spawn(body);
            match finish(child, &log, meanwhile) {
                Ok(text) => return text,
                Err(crash) if attempt < ATTEMPTS => {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "ardour session test `{}`: Ardour died ({crash}); run {attempt} repeated",
                        self.name
                    );
                    match &saved {
                        Some(bytes) => std::fs::write(&file, bytes).unwrap(),
                        None => {
                            let _ = std::fs::remove_dir_all(self.dir.path(SNAPSHOT));
                        }
                    }
                }
                Err(crash) => panic!(
                    "Ardour died {ATTEMPTS} times running this ({crash}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            }
        }
        unreachable!()
    }

    /// Makes the session: two stereo tracks, the song's files in it, the session range.
    pub fn new_session(&self, song: &Song) {
        std::fs::create_dir_all(self.dir.path("out")).unwrap();
        self.run(&format!(
            "AudioEngine:set_backend('None (Dummy)', '', '')
             local s = create_session(SESSION, SNAPSHOT, {})
             assert(s, 'Ardour could not create a session')
             for _, name in ipairs({{'Vocal', 'Backing'}}) do
               s:new_audio_track(2, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order,
                                 ARDOUR.TrackMode.Normal, true)
             end
             save(s)",
            song.rate
        ));
        let files = self
            .dir
            .path(&format!("{SNAPSHOT}/interchange/{SNAPSHOT}/audiofiles"));
        let vocal = [song.vocal.clone(), song.vocal.clone()];
        write_wav(&files.join("vocal.wav"), song.rate, &vocal);
        write_wav(&files.join("backing.wav"), song.rate, &song.backing);
        // the same audio for automix: the vocal mono, as the file it came from
        write_wav(&self.dir.path("vocal.wav"), song.rate, &vocal[..1]);
        write_wav(&self.dir.path("backing.wav"), song.rate, &song.backing);
        let xml = std::fs::read_to_string(self.session_file(SNAPSHOT)).unwrap();
        let xml = session_xml::with_audio(&xml, song.vocal.len());
        std::fs::write(self.session_file(SNAPSHOT), xml).unwrap();
    }

    fn automix(&self) -> Command {
        Command::new(workspace().join("target/release/automix"))
    }

    /// `automix analyze --json` of the session's two files, at Ardour's tempo.
    pub fn automix_analyze(&self, with_backing: bool) -> serde_json::Value {
        let mut c = self.automix();
        c.args(["analyze", "--json", "--tempo", TEMPO, "--vocal"])
            .arg(self.dir.path("vocal.wav"));
        serde_json::from_slice(&self.run_automix(c, with_backing)).unwrap()
    }

    /// `automix render` of the session's vocal with `suggestion`'s parameters (over the backing,
    /// which the ride follows, when `with_backing`).
    pub fn automix_render(
        &self,
        suggestion: &serde_json::Value,
        with_backing: bool,
    ) -> Vec<Vec<f32>> {
        let params = self.dir.path("params.json");
        std::fs::write(&params, suggestion.to_string()).unwrap();
        let rendered = self.dir.path("rendered.wav");
        let mut c = self.automix();
        c.args(["render", "--vocal"])
            .arg(self.dir.path("vocal.wav"))
            .arg("--params")
            .arg(&params)
            .arg("--out")
            .arg(&rendered);
        self.run_automix(c, with_backing);
        automix_tests::read_wav(&rendered).1
    }

    /// Runs `c` (an `automix` command) with the session's backing when `with_backing`; its
    /// standard output. A failure fails the test with automix's message.
    fn run_automix(&self, mut c: Command, with_backing: bool) -> Vec<u8> {
        if with_backing {
            c.arg("--backing").arg(self.dir.path("backing.wav"));
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The plug-in's state (nice-plug's JSON) as `snapshot` holds it.
    pub fn plugin_state(&self, snapshot: &str) -> serde_json::Value {
        let xml = std::fs::read_to_string(self.session_file(snapshot)).unwrap();
        session_xml::plugin_state(&xml).expect("a Vocal Automix state in the session")
    }

    /// The saved session's file changed by `edit` (between two runs of Ardour).
    pub fn edit_session(&self, edit: impl FnOnce(&str) -> String) {
        let file = self.session_file(SNAPSHOT);
        let xml = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, edit(&xml)).unwrap();
    }

    /// A reference chosen as the editor's browser stores it: the saved settings' path.
    pub fn choose_reference(&self, reference: &Path) {
        let file = self.session_file(SNAPSHOT);
        let xml = std::fs::read_to_string(&file).unwrap();
        let mut state = session_xml::plugin_state(&xml).unwrap();
        let mut settings: serde_json::Value =
            serde_json::from_str(state["fields"]["assistant_settings"].as_str().unwrap()).unwrap();
        settings["reference"] = serde_json::json!({ "path": reference.display().to_string() });
        state["fields"]["assistant_settings"] = settings.to_string().into();
        std::fs::write(&file, session_xml::with_plugin_state(&xml, &state)).unwrap();
    }

    /// Opens the session and keeps it open until the plug-in has measured its reference (read
    /// from the snapshots Ardour saves meanwhile); the parameters then, and saves.
    pub fn run_until_measured(&self) -> String {
        let stop = self.dir.path("measured");
        let body = format!(
            "local s = open_session()
             assert(save_until(s, {:?}, 120), 'the reference was never measured')
             print_params(plugin(s))
             save(s)",
            stop.display().to_string()
        );
        let probe = self.session_file("probe");
        self.run_watching(&body, &mut || {
            let Some(state) = std::fs::read_to_string(&probe)
                .ok()
                .and_then(|xml| session_xml::plugin_state(&xml))
            else {
                return;
            };
            let settings = state["fields"]["assistant_settings"].as_str().unwrap_or("");
            if settings.contains("\"measures\":{") || settings.contains("\"problem\":\"") {
                assert!(!settings.contains("\"problem\":\""), "{settings}");
                std::fs::write(&stop, "").unwrap();
            }
        })
    }
}

/// Waits for Ardour (at most 3 minutes), calling `meanwhile` every 200 ms; its log, or the signal
/// that killed it. A Lua error or a failed exit fails the test.
fn finish(mut child: Child, log: &Path, meanwhile: &mut dyn FnMut()) -> Result<String, String> {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!(
                "Ardour ran for 3 minutes:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        meanwhile();
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = std::fs::read_to_string(log).unwrap();
    let failed = text
        .lines()
        .any(|l| l.starts_with("Error:") || l.contains("[FATAL]"));
    if let Some(signal) = status.signal().filter(|_| !failed) {
        return Err(format!("signal {signal}"));
    }
    assert!(
        status.success() && !failed,
        "Ardour failed ({status}):\n{text}"
    );
    Ok(text)
}

/// Every "param<TAB>name<TAB>value" line of a log, by name.
pub fn params_of(log: &str) -> BTreeMap<String, f64> {
    log.lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("param\t")?.split('\t');
            Some((f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .collect()
}

/// The first frame where `a` and `b` differ by more than `by` (`0.0`: at all, to the bit; two
/// exports of a session in fresh Ardour processes are the same until something in it differs).
pub fn first_difference(a: &[Vec<f32>], b: &[Vec<f32>], by: f32) -> usize {
    let differ = |x: f32, y: f32| (x - y).abs() > by || (by == 0.0 && x.to_bits() != y.to_bits());
    (0..a[0].len())
        .find(|&i| a.iter().zip(b).any(|(x, y)| differ(x[i], y[i])))
        .unwrap_or(usize::MAX)
}

/// 12 s of a professionally mixed song as a WAV file: the reference the plug-in measures.
pub fn reference_excerpt(a: &Ardour) -> Option<PathBuf> {
    let song = shared_audio("musdb-excerpts/Al James - Schoolboy Facination/mixture.flac")?;
    let (audio, _) = engine::audio_file::read(&song).unwrap();
    let n = (12 * audio.sample_rate as usize).min(audio.frames());
    let excerpt: Vec<Vec<f32>> = audio.channels.iter().map(|c| c[..n].to_vec()).collect();
    let path = a.dir.path("reference.wav");
    write_wav(&path, audio.sample_rate, &excerpt);
    Some(path)
}

/// The bundle copied with its files dated 2000: Ardour trusts a scan only if its cache is newer
/// than the module (by whole seconds), and the scan follows at once.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let old = SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800);
            let f = std::fs::File::options().write(true).open(&target).unwrap();
            f.set_modified(old).unwrap();
        }
    }
}

#[path = "session_xml.rs"]
pub mod session_xml;
