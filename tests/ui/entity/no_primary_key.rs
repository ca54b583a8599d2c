// No field is marked `#[dal(id)]` and none is called `id`: the entity has no key.
use dal::Entity;

#[derive(Entity)]
struct Note {
    body: String,
}

fn main() {}
