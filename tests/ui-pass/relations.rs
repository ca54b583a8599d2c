// Every valid form of the relation declarations compiles, and the handles and
// lazy methods they generate have the expected types.
#![allow(dead_code)]

use dal::{BelongsTo, Db, Entity, HasMany, HasOne, ManyToMany};
use uuid::Uuid;

// has_many and has_one on the parent; an i64 key.
#[derive(Entity, Debug, Clone)]
#[dal(
    table = "users",
    has_many(tasks = Task::OWNER),
    has_many(reviews = Task::REVIEWER),
    has_one(profile = Profile::USER)
)]
struct User {
    #[dal(id)]
    id: i64,
    name: String,
}

// belongs_to with and without `relation =`, an `Option` foreign key, two
// belongs-to to the same entity under different names, actions.
#[derive(Entity, Debug, Clone)]
#[dal(soft_delete, many_to_many(tags = Tag, through = TaskTag::TAG, from = TaskTag::TASK))]
struct Task {
    #[dal(id)]
    id: i64,
    #[dal(belongs_to = User, on_delete = "cascade")]
    owner_id: i64,
    #[dal(belongs_to = User, relation = "reviewer", on_delete = "set_null")]
    reviewed_by: Option<i64>,
    #[dal(belongs_to = Project, rename = "project", index)]
    project_id: Option<Uuid>,
    title: String,
}

// has_one: the child's foreign key is unique.
#[derive(Entity, Debug, Clone)]
struct Profile {
    id: i64,
    #[dal(belongs_to = User, unique)]
    user_id: i64,
    bio: Option<String>,
}

// a UUID key.
#[derive(Entity, Debug, Clone)]
#[dal(has_many(tasks = Task::PROJECT))]
struct Project {
    id: Uuid,
    name: String,
}

// a String key, pointed at by a String foreign key.
#[derive(Entity, Debug, Clone)]
#[dal(many_to_many(tasks = Task, through = TaskTag::TASK, from = TaskTag::TAG))]
struct Tag {
    #[dal(id, length = 40)]
    slug: String,
}

// the join entity of a many-to-many.
#[derive(Entity, Debug, Clone)]
#[dal(table = "task_tags")]
struct TaskTag {
    id: i64,
    #[dal(belongs_to = Task, on_delete = "cascade")]
    task_id: i64,
    #[dal(belongs_to = Tag, length = 40, on_update = "cascade")]
    tag_id: String,
}

// a self-referencing tree: by the type's name ...
#[derive(Entity, Debug, Clone)]
#[dal(has_many(children = Category::PARENT))]
struct Category {
    id: i64,
    #[dal(belongs_to = Category)]
    parent_id: Option<i64>,
    name: String,
}

// ... and with `Self`.
#[derive(Entity, Debug, Clone)]
#[dal(has_many(replies = Self::PARENT), has_one(pinned = Self::PINNED_IN))]
struct Comment {
    id: Uuid,
    #[dal(belongs_to = Self)]
    parent_id: Option<Uuid>,
    #[dal(belongs_to = Self, relation = "pinned_in", unique)]
    pinned_in_id: Option<Uuid>,
}

// the parent's key is an `Option<Uuid>`.
#[derive(Entity, Debug, Clone)]
#[dal(has_many(links = Link::SESSION))]
struct Session {
    #[dal(id)]
    token: Option<Uuid>,
}

#[derive(Entity, Debug, Clone)]
struct Link {
    id: i64,
    #[dal(belongs_to = Session)]
    session_id: Option<Uuid>,
}

// `crate =` names the crate's path.
mod renamed {
    #[derive(dal::Entity, Debug, Clone)]
    #[dal(crate = "dal", has_many(notes = Note::BOOK))]
    pub struct Book {
        pub id: i64,
    }

    #[derive(dal::Entity, Debug, Clone)]
    #[dal(crate = "dal")]
    pub struct Note {
        pub id: i64,
        #[dal(belongs_to = Book)]
        pub book_id: i64,
    }
}

// a path to an entity in another module.
#[derive(Entity, Debug, Clone)]
struct Quote {
    id: i64,
    #[dal(belongs_to = renamed::Book)]
    book_id: i64,
    #[dal(belongs_to = crate::renamed::Note, relation = "note")]
    note_ref: Option<i64>,
}

async fn lazy(db: &Db, user: &User, task: &Task, tag: &Tag, c: &Category) -> dal::Result<()> {
    let _: Option<User> = task.owner(db).await?;
    let _: Option<User> = task.reviewer(db).await?;
    let _: Option<Project> = task.project(db).await?;
    let _: Vec<Task> = user.tasks().all(db).await?;
    let _: Option<Profile> = user.profile(db).await?;
    let _: Vec<Tag> = task.tags().all(db).await?;
    let _: Vec<Task> = tag.tasks().all(db).await?;
    let _: Vec<Category> = c.children().all(db).await?;
    let _: Option<Category> = c.parent(db).await?;
    Ok(())
}

fn main() {
    let _: BelongsTo<Task, User> = Task::OWNER;
    let _: BelongsTo<Task, User> = Task::REVIEWER;
    let _: BelongsTo<Task, Project> = Task::PROJECT;
    let _: HasMany<User, Task> = User::TASKS;
    let _: HasMany<User, Task> = User::REVIEWS;
    let _: HasOne<User, Profile> = User::PROFILE;
    let _: HasMany<Project, Task> = Project::TASKS;
    let _: ManyToMany<Task, Tag, TaskTag> = Task::TAGS;
    let _: ManyToMany<Tag, Task, TaskTag> = Tag::TASKS;
    let _: HasMany<Category, Category> = Category::CHILDREN;
    let _: BelongsTo<Category, Category> = Category::PARENT;
    let _: HasMany<Comment, Comment> = Comment::REPLIES;
    let _: HasOne<Comment, Comment> = Comment::PINNED;
    let _: HasMany<Session, Link> = Session::LINKS;
    let _: HasMany<renamed::Book, renamed::Note> = renamed::Book::NOTES;
    let _: BelongsTo<Quote, renamed::Note> = Quote::NOTE;
    let _ = Quote::BOOK;
    // the foreign key and its column handle both exist
    let _ = Task::find().filter(Task::OWNER_ID.eq(1));
    let _ = User::find()
        .with(User::TASKS.with(Task::TAGS))
        .with(User::PROFILE);
    assert_eq!(User::TASKS.inverse().column(), "owner_id");
    assert_eq!(Task::PROJECT.column(), "project");
    let t = Task::blueprint();
    assert_eq!(t.foreign_keys.len(), 3);
    let _ = lazy;
}
