//! `field`: the technician's command line.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("the field client is not built yet: the field-client issue brings its commands")
}
