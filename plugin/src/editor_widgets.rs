//! The editor's drawings: the octave bands of vocal and backing, the gain-reduction meter and the
//! ride's gain over the last seconds.

use egui::{self, Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, vec2};
use engine::analysis::suggestion::BandReport;

const VOCAL: Color32 = Color32::from_rgb(110, 190, 250);
const BACKING: Color32 = Color32::from_rgb(200, 200, 200);
const MASKED: Color32 = Color32::from_rgb(250, 120, 90);

/// Nine octave bands, 63 Hz to 16 kHz: the vocal and the backing as the analysis measured them
/// (each relative to its own mean over the bands, as the EQ rule compares them), bands where the
/// backing covers the vocal shaded, and the EQ's decision written under each band.
pub fn band_view(ui: &mut egui::Ui, bands: &[BandReport]) {
    let size = vec2(ui.available_width().max(200.0), 150.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    if bands.is_empty() {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "Analyze & Mix measures the bands",
            FontId::proportional(12.0),
            ui.visuals().weak_text_color(),
        );
        return;
    }
    let plot = Rect::from_min_max(rect.min + vec2(4.0, 4.0), rect.max - vec2(4.0, 30.0));
    // ±18 dB around each signal's own mean
    let y = |db: f64| {
        let t = ((db + 18.0) / 36.0).clamp(0.0, 1.0) as f32;
        plot.bottom() - t * plot.height()
    };
    painter.line_segment(
        [
            Pos2::new(plot.left(), y(0.0)),
            Pos2::new(plot.right(), y(0.0)),
        ],
        Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
    let w = plot.width() / bands.len() as f32;
    for (i, b) in bands.iter().enumerate() {
        let x0 = plot.left() + i as f32 * w;
        let column =
            Rect::from_min_max(Pos2::new(x0, plot.top()), Pos2::new(x0 + w, plot.bottom()));
        if b.backing_over_vocal_db.is_some_and(|d| d > 0.0) {
            painter.rect_filled(column.shrink(1.0), 2.0, MASKED.gamma_multiply(0.18));
        }
        let bar = |left: f32, db: f64, colour: Color32| {
            let top = y(db);
            let base = y(0.0);
            let r = Rect::from_min_max(
                Pos2::new(left, top.min(base)),
                Pos2::new(left + w * 0.3, top.max(base)),
            );
            painter.rect_filled(r, 1.0, colour);
        };
        bar(x0 + w * 0.15, b.vocal_relative_db, VOCAL);
        if let Some(db) = b.backing_relative_db {
            bar(x0 + w * 0.55, db, BACKING);
        }
        let hz = if b.hz >= 1000.0 {
            format!("{}k", b.hz / 1000.0)
        } else {
            format!("{}", b.hz)
        };
        painter.text(
            Pos2::new(x0 + w * 0.5, plot.bottom() + 2.0),
            Align2::CENTER_TOP,
            hz,
            FontId::proportional(10.0),
            ui.visuals().text_color(),
        );
        if b.gain_db != 0.0 {
            painter.text(
                Pos2::new(x0 + w * 0.5, plot.bottom() + 14.0),
                Align2::CENTER_TOP,
                format!("{:+.0}", b.gain_db),
                FontId::proportional(10.0),
                MASKED,
            );
        }
    }
    ui.horizontal(|ui| {
        ui.colored_label(VOCAL, "vocal");
        ui.colored_label(BACKING, "backing");
        ui.colored_label(MASKED, "masked: the backing covers the vocal");
    });
}

/// The compressor's gain reduction, 0 to −24 dB, top down.
pub fn gain_reduction_meter(ui: &mut egui::Ui, db: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(22.0, 130.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let depth = (-db / 24.0).clamp(0.0, 1.0);
    let fill = Rect::from_min_max(
        rect.min,
        Pos2::new(rect.right(), rect.top() + depth * rect.height()),
    );
    painter.rect_filled(fill, 2.0, MASKED);
    for mark in [6.0, 12.0, 18.0] {
        let y = rect.top() + mark / 24.0 * rect.height();
        painter.line_segment(
            [Pos2::new(rect.left(), y), Pos2::new(rect.left() + 5.0, y)],
            Stroke::new(1.0, ui.visuals().weak_text_color()),
        );
    }
    painter.text(
        Pos2::new(rect.center().x, rect.bottom() - 2.0),
        Align2::CENTER_BOTTOM,
        "GR",
        FontId::proportional(9.0),
        ui.visuals().text_color(),
    );
    ui.label(format!("{db:.1} dB"))
        .on_hover_text("compressor gain reduction");
}

/// Frames of ride history the editor keeps: 10 s at its 30 frames a second.
pub const RIDE_HISTORY: usize = 300;

/// The ride's gain (dB) over the last [`RIDE_HISTORY`] frames, oldest left, within ± the range.
pub fn ride_view(ui: &mut egui::Ui, history: &std::collections::VecDeque<f32>, range_db: f32) {
    let size = vec2(ui.available_width().max(200.0), 70.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    let span = range_db.max(1.0);
    let y = |db: f32| rect.center().y - (db / span).clamp(-1.0, 1.0) * (rect.height() * 0.45);
    painter.line_segment(
        [
            Pos2::new(rect.left(), y(0.0)),
            Pos2::new(rect.right(), y(0.0)),
        ],
        Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
    let step = rect.width() / (RIDE_HISTORY - 1) as f32;
    let start = rect.right() - step * history.len().saturating_sub(1) as f32;
    let points: Vec<Pos2> = history
        .iter()
        .enumerate()
        .map(|(i, &db)| Pos2::new(start + i as f32 * step, y(db)))
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(1.5, VOCAL)));
    let now = history.back().copied().unwrap_or(0.0);
    painter.text(
        rect.right_top() + vec2(-4.0, 2.0),
        Align2::RIGHT_TOP,
        format!("{now:+.1} dB (±{range_db:.0})"),
        FontId::proportional(10.0),
        ui.visuals().text_color(),
    );
}
