-- Evidence labels (seed 003): which photo of a rectification shows the scene before and which
-- after ('before' / 'after', from the upload's metadata), and what a recording says (audio
-- transcript, set later by its maker or the officers).
ALTER TABLE attachments ADD COLUMN phase TEXT;
ALTER TABLE attachments ADD COLUMN transcript TEXT;
