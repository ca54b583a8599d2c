//! The chart of the ratios to the floor (`bench/ratios.svg`): one group of
//! bars per workload and backend, one bar per contender (its median ops/s ÷
//! the floor's), a dashed line at the 0.85x target and a thin one at 1.0x.

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{Cell, display};
use crate::workloads::Workload;

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

const CAP: f64 = 2.5;

/// Draw the chart of `cells` into `path`.
pub fn write_svg(path: &str, cells: &[Cell]) -> Result<()> {
    let median = |b: &str, w: Workload, c: &str| {
        cells
            .iter()
            .find(|x| x.backend == b && x.workload == w && x.contender == c)
            .and_then(Cell::median)
    };
    let mut contenders: Vec<&str> = Vec::new();
    for c in cells {
        if c.contender != "floor" && !contenders.contains(&c.contender) {
            contenders.push(c.contender);
        }
    }
    let mut backends: Vec<&str> = Vec::new();
    for c in cells {
        if !backends.contains(&c.backend) {
            backends.push(c.backend);
        }
    }
    // (label, backend, ratios per contender)
    let mut groups: Vec<(String, String, Vec<Option<f64>>)> = Vec::new();
    for w in Workload::ALL {
        for &b in &backends {
            let Some(floor) = median(b, w, "floor") else {
                continue;
            };
            let ratios: Vec<Option<f64>> = contenders
                .iter()
                .map(|c| median(b, w, c).map(|m| m / floor))
                .collect();
            if ratios.iter().any(Option::is_some) {
                groups.push((w.name().to_string(), b.to_string(), ratios));
            }
        }
    }
    let bar = 9i32;
    let gap = 16i32;
    let group_w = bar * contenders.len().max(1) as i32 + gap;
    let (left, top, bottom) = (60i32, 70i32, 70i32);
    let plot_h = 420i32;
    let width = (left + 20 + group_w * groups.len().max(1) as i32).max(900);
    let height = top + plot_h + bottom;
    let root = SVGBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| anyhow!("drawing: {e:?}");
    root.fill(&WHITE).map_err(e)?;
    let y_of = |r: f64| top + plot_h - (r.min(CAP) / CAP * plot_h as f64).round() as i32;
    let font = |size: i32| TextStyle::from(("sans-serif", size).into_font());
    root.draw(&Text::new(
        format!(
            "ops/s relative to the floor (raw driver), median of runs; dashed: the 0.85x target; bars capped at {CAP}x. {}",
            crate::command_line()
        ),
        (left, 8),
        font(13),
    ))
    .map_err(e)?;
    // legend
    for (i, c) in contenders.iter().enumerate() {
        let x = left + i as i32 * 120;
        root.draw(&Rectangle::new(
            [(x, 30), (x + 12, 42)],
            COLORS[i % COLORS.len()].filled(),
        ))
        .map_err(e)?;
        root.draw(&Text::new(display(c).to_string(), (x + 16, 30), font(12)))
            .map_err(e)?;
    }
    // axis and grid
    for k in 0..=((CAP * 2.0) as i32) {
        let r = k as f64 * 0.5;
        let y = y_of(r);
        root.draw(&PathElement::new(
            vec![(left, y), (width - 10, y)],
            RGBColor(225, 225, 225).stroke_width(1),
        ))
        .map_err(e)?;
        root.draw(&Text::new(
            format!("{r:.1}x"),
            (left - 6, y),
            font(11).pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(e)?;
    }
    root.draw(&PathElement::new(
        vec![(left, y_of(1.0)), (width - 10, y_of(1.0))],
        BLACK.stroke_width(1),
    ))
    .map_err(e)?;
    // bars
    for (g, (label, backend, ratios)) in groups.iter().enumerate() {
        let x0 = left + 8 + g as i32 * group_w;
        for (i, r) in ratios.iter().enumerate() {
            let Some(r) = r else { continue };
            let x = x0 + i as i32 * bar;
            root.draw(&Rectangle::new(
                [(x, y_of(*r)), (x + bar - 1, y_of(0.0))],
                COLORS[i % COLORS.len()].filled(),
            ))
            .map_err(e)?;
        }
        let mid = x0 + (group_w - gap) / 2;
        root.draw(&Text::new(
            label.clone(),
            (mid, top + plot_h + 6),
            font(10).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(e)?;
        root.draw(&Text::new(
            backend.clone(),
            (mid, top + plot_h + 20),
            font(10).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(e)?;
    }
    // the target
    let y = y_of(0.85);
    let mut x = left;
    while x < width - 10 {
        root.draw(&PathElement::new(
            vec![(x, y), ((x + 8).min(width - 10), y)],
            RED.stroke_width(2),
        ))
        .map_err(e)?;
        x += 14;
    }
    root.draw(&Text::new(
        "0.85x target",
        (width - 90, y - 16),
        font(11).color(&RED),
    ))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
