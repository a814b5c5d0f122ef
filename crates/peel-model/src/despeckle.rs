//! Specks out of instance and referring paintings, before they are enlarged.
//!
//! The painter gives each pixel the colour of its most likely entry, so where an instance slot (or
//! a referred thing) barely beats its neighbours it paints a few scattered pixels of its own. The
//! instance decoder counts every connected piece of a colour as an instance, so each speck was a
//! false instance: on COCO128 train, 1,260 false instances against 107 true ones, most of them
//! under 0.1 % of the photo (docs/MODEL.md, "Specks are not instances"). Here every 4-connected
//! piece of one colour smaller than `min_pixels` takes the colour that borders it most, so a speck
//! in the background becomes background and a speck inside an instance joins that instance. Only
//! painted colours are used, so the colour decoders see what they saw before.

use image::RgbImage;

const NONE: u32 = u32::MAX;

/// How many border pixels of a piece have each colour.
type BorderCounts = Vec<([u8; 3], u32)>;

/// Repaints every 4-connected piece of one colour with fewer than `min_pixels` pixels in the colour
/// its border touches most (ties: the smaller RGB value, so the result does not depend on order).
/// A piece with no border (the whole painting is one colour) is kept. Returns how many pieces were
/// repainted.
pub fn despeckle(painting: &mut RgbImage, min_pixels: usize) -> usize {
    let (width, height) = (painting.width() as usize, painting.height() as usize);
    let colours: Vec<[u8; 3]> = painting.pixels().map(|p| p.0).collect();
    let (piece, sizes) = pieces(&colours, width, height);
    // Border colour counts of the small pieces only; they hold few pixels, so a short list suffices.
    let mut borders: Vec<Option<BorderCounts>> = sizes.iter().map(|&s| (s < min_pixels).then(Vec::new)).collect();
    for i in 0..colours.len() {
        let Some(counts) = borders[piece[i] as usize].as_mut() else { continue };
        for j in neighbours(i, width, height).into_iter().flatten() {
            if piece[j] != piece[i] {
                match counts.iter_mut().find(|(c, _)| *c == colours[j]) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((colours[j], 1)),
                }
            }
        }
    }
    let fill: Vec<Option<[u8; 3]>> = borders
        .iter()
        .map(|counts| {
            let counts = counts.as_ref()?;
            counts.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|&(c, _)| c)
        })
        .collect();
    for (pixel, &p) in painting.pixels_mut().zip(&piece) {
        if let Some(colour) = fill[p as usize] {
            pixel.0 = colour;
        }
    }
    fill.iter().filter(|f| f.is_some()).count()
}

/// The up to four 4-connected neighbours of pixel `i`.
fn neighbours(i: usize, width: usize, height: usize) -> [Option<usize>; 4] {
    let (x, y) = (i % width, i / width);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < width).then(|| i + 1),
        (y > 0).then(|| i - width),
        (y + 1 < height).then(|| i + width),
    ]
}

/// Each pixel's piece (4-connected, one colour) and each piece's size.
fn pieces(colours: &[[u8; 3]], width: usize, height: usize) -> (Vec<u32>, Vec<usize>) {
    let mut piece = vec![NONE; colours.len()];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..colours.len() {
        if piece[start] != NONE {
            continue;
        }
        let id = sizes.len() as u32;
        piece[start] = id;
        stack.push(start);
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            for j in neighbours(i, width, height).into_iter().flatten() {
                if piece[j] == NONE && colours[j] == colours[i] {
                    piece[j] = id;
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    (piece, sizes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
    const RED: Rgb<u8> = Rgb([255, 0, 0]);
    const BLUE: Rgb<u8> = Rgb([0, 0, 255]);

    #[test]
    fn a_speck_takes_the_colour_around_it_and_a_large_piece_stays() {
        // 20×10 black, a red block of 6×6 (36 px) and a lone blue pixel in the black.
        let mut img = RgbImage::from_pixel(20, 10, BLACK);
        for y in 2..8 {
            for x in 2..8 {
                img.put_pixel(x, y, RED);
            }
        }
        img.put_pixel(15, 5, BLUE);
        let repainted = despeckle(&mut img, 10);
        assert_eq!(repainted, 1);
        assert_eq!(*img.get_pixel(15, 5), BLACK);
        assert_eq!(img.pixels().filter(|p| **p == RED).count(), 36);
    }

    #[test]
    fn a_speck_inside_an_instance_joins_it() {
        let mut img = RgbImage::from_pixel(12, 12, BLACK);
        for y in 1..11 {
            for x in 1..11 {
                img.put_pixel(x, y, RED);
            }
        }
        img.put_pixel(5, 5, BLUE);
        img.put_pixel(6, 5, BLUE);
        despeckle(&mut img, 4);
        assert_eq!(img.pixels().filter(|p| **p == RED).count(), 100);
        assert!(img.pixels().all(|p| *p != BLUE));
    }

    #[test]
    fn pieces_are_four_connected_and_a_borderless_painting_is_kept() {
        // Two blue pixels touching only at a corner are two pieces of one pixel each.
        let mut img = RgbImage::from_pixel(6, 6, BLACK);
        img.put_pixel(2, 2, BLUE);
        img.put_pixel(3, 3, BLUE);
        assert_eq!(despeckle(&mut img, 2), 2);
        assert!(img.pixels().all(|p| *p == BLACK));
        let mut one = RgbImage::from_pixel(3, 3, RED);
        assert_eq!(despeckle(&mut one, 100), 0);
        assert!(one.pixels().all(|p| *p == RED));
        let mut empty = RgbImage::new(0, 0);
        assert_eq!(despeckle(&mut empty, 5), 0);
    }

    #[test]
    fn a_tie_between_border_colours_is_broken_by_colour_not_by_order() {
        // A one-pixel speck with red left, blue right and black above and below: black borders it
        // twice, so black wins. In a row of red, red, speck, blue, blue the tie between red and blue
        // goes to the smaller RGB value (blue).
        let mut img = RgbImage::from_pixel(3, 3, BLACK);
        img.put_pixel(0, 1, RED);
        img.put_pixel(2, 1, BLUE);
        img.put_pixel(1, 1, Rgb([9, 9, 9]));
        despeckle(&mut img, 2);
        assert_eq!(*img.get_pixel(1, 1), BLACK);
        let mut row = RgbImage::from_pixel(5, 1, RED);
        row.put_pixel(2, 0, Rgb([9, 9, 9]));
        row.put_pixel(3, 0, BLUE);
        row.put_pixel(4, 0, BLUE);
        despeckle(&mut row, 2);
        assert_eq!(*row.get_pixel(2, 0), BLUE);
    }
}
