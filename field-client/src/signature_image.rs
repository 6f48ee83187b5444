//! The customer's signature: strokes read from the capture pad's JSON and rendered to a PNG,
//! the image kept as evidence. Rendering is deterministic, so the same strokes always give the
//! same image and the same SHA-256.

use std::path::Path;

use sync_protocol::job::StrokePoint;

use crate::error::ClientError;

/// Rendered image size, in pixels: a typical signature box.
const WIDTH: u32 = 600;
const HEIGHT: u32 = 240;
const MARGIN: f64 = 12.0;
/// Half the pen's width, in pixels.
const PEN_RADIUS: i64 = 1;
/// A signature is a few hundred points; this bounds what a broken pad file can make us store.
const MAX_POINTS: usize = 20_000;
/// Pad coordinates beyond this are not a signature pad's.
const MAX_COORDINATE: f64 = 1_000_000.0;

/// Reads strokes from a JSON file: a list of strokes, each a list of `[x, y]` points.
/// Fractional coordinates (some pads report them) are rounded.
pub fn read_strokes(path: &Path) -> Result<Vec<Vec<StrokePoint>>, ClientError> {
    let broken = |reason: String| ClientError::Strokes {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::file("read the strokes", path, e))?;
    let raw: Vec<Vec<[f64; 2]>> = serde_json::from_str(&text).map_err(|e| broken(e.to_string()))?;
    if raw.iter().map(Vec::len).sum::<usize>() > MAX_POINTS {
        return Err(broken(format!("more than {MAX_POINTS} points")));
    }
    raw.iter()
        .map(|stroke| {
            stroke
                .iter()
                .map(|&[x, y]| {
                    if !(x.is_finite() && y.is_finite())
                        || x.abs() > MAX_COORDINATE
                        || y.abs() > MAX_COORDINATE
                    {
                        return Err(broken(format!("the point [{x}, {y}] is off the pad")));
                    }
                    Ok(StrokePoint {
                        x: x.round() as i64,
                        y: y.round() as i64,
                    })
                })
                .collect()
        })
        .collect()
}

/// Renders the strokes black on white, scaled to fit the image and centred, as a PNG.
pub fn render_png(strokes: &[Vec<StrokePoint>]) -> Result<Vec<u8>, ClientError> {
    let mut canvas = Canvas::blank();
    if let Some(fit) = Fit::of(strokes) {
        for stroke in strokes {
            let mut points = stroke.iter().map(|p| fit.place(*p));
            let Some(mut previous) = points.next() else {
                continue;
            };
            canvas.dot(previous);
            for point in points {
                canvas.line(previous, point);
                previous = point;
            }
        }
    }
    canvas.encode()
}

/// Scales pad coordinates into the image, keeping the aspect ratio.
struct Fit {
    min_x: f64,
    min_y: f64,
    scale: f64,
    offset_x: f64,
    offset_y: f64,
}

impl Fit {
    fn of(strokes: &[Vec<StrokePoint>]) -> Option<Self> {
        let points = strokes.iter().flatten();
        let (min_x, max_x) = bounds(points.clone().map(|p| p.x))?;
        let (min_y, max_y) = bounds(points.map(|p| p.y))?;
        let span_x = (max_x - min_x).max(1) as f64;
        let span_y = (max_y - min_y).max(1) as f64;
        let room_x = f64::from(WIDTH) - 2.0 * MARGIN;
        let room_y = f64::from(HEIGHT) - 2.0 * MARGIN;
        let scale = (room_x / span_x).min(room_y / span_y);
        Some(Self {
            min_x: min_x as f64,
            min_y: min_y as f64,
            scale,
            offset_x: MARGIN + (room_x - span_x * scale) / 2.0,
            offset_y: MARGIN + (room_y - span_y * scale) / 2.0,
        })
    }

    fn place(&self, p: StrokePoint) -> (i64, i64) {
        let x = self.offset_x + (p.x as f64 - self.min_x) * self.scale;
        let y = self.offset_y + (p.y as f64 - self.min_y) * self.scale;
        (x.round() as i64, y.round() as i64)
    }
}

fn bounds(values: impl Iterator<Item = i64>) -> Option<(i64, i64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// An 8-bit greyscale image being drawn.
struct Canvas(Vec<u8>);

impl Canvas {
    fn blank() -> Self {
        Self(vec![255; (WIDTH * HEIGHT) as usize])
    }

    fn dot(&mut self, (cx, cy): (i64, i64)) {
        for y in cy - PEN_RADIUS..=cy + PEN_RADIUS {
            for x in cx - PEN_RADIUS..=cx + PEN_RADIUS {
                if (0..i64::from(WIDTH)).contains(&x) && (0..i64::from(HEIGHT)).contains(&y) {
                    self.0[(y * i64::from(WIDTH) + x) as usize] = 0;
                }
            }
        }
    }

    /// Bresenham's line, stamping the pen at every step.
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64)) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut error) = (x0, y0, dx + dy);
        loop {
            self.dot((x, y));
            if x == x1 && y == y1 {
                break;
            }
            let doubled = 2 * error;
            if doubled >= dy {
                error += dy;
                x += sx;
            }
            if doubled <= dx {
                error += dx;
                y += sy;
            }
        }
    }

    fn encode(self) -> Result<Vec<u8>, ClientError> {
        let failed = |e: png::EncodingError| ClientError::Strokes {
            path: "<signature>".into(),
            reason: format!("the image could not be made: {e}"),
        };
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&self.0).map_err(failed)?;
        writer.finish().map_err(failed)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(points: &[(i64, i64)]) -> Vec<StrokePoint> {
        points.iter().map(|&(x, y)| StrokePoint { x, y }).collect()
    }

    #[test]
    fn renders_a_deterministic_png_with_ink() {
        let strokes = vec![stroke(&[(0, 0), (100, 40), (200, 0)]), stroke(&[(50, 50)])];
        let first = render_png(&strokes).unwrap();
        assert_eq!(first, render_png(&strokes).unwrap());
        assert!(first.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = png::Decoder::new(std::io::Cursor::new(&first));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        assert!(pixels.contains(&0), "some ink is drawn");
        assert_ne!(first, render_png(&[stroke(&[(0, 0), (0, 10)])]).unwrap());
    }
}
