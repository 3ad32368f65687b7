package Makeclip::Mock::Luma;

# Luma's Dream Machine API as openapi.yaml (lumalabs/lumaai-api) and the
# lumaai SDK describe it, under /dream-machine/v1:
#
#   POST   /generations/video     create: 201 and the Generation object
#   GET    /generations/{id}      the Generation; each poll moves it on:
#                                 queued -> dreaming -> completed
#                                 (assets.video) or failed
#                                 (failure_reason)
#   DELETE /generations/{id}      removes it: 204
#   GET    /media/{id}.mp4        the video (storage.cdn-luma.com at Luma)
#
# "Authorization: Bearer <key>" or 401 {"detail": "Invalid API key is
# provided"}.  The body is checked against the spec: model required and
# one of ray-2, ray-flash-2, ray-1-6; aspect_ratio, resolution from their
# enums; duration a string "5s" or "9s"; keyframes.frame0 {type: image,
# url} with an https URL (Luma takes image URLs only); no unknown fields.
# Errors: 400 {"detail": "..."}.
#
# A prompt with "[fail]" ends failed.

use strict;
use warnings;
use parent 'Makeclip::Mock';

my %MODELS = map { $_ => 1 } qw(ray-2 ray-flash-2 ray-1-6);
my %ASPECTS = map { $_ => 1 } qw(1:1 16:9 9:16 4:3 3:4 21:9 9:21);
my %RESOLUTIONS = map { $_ => 1 } qw(540p 720p 1080p 4k);
my %DURATIONS = map { $_ => 1 } qw(5s 9s);

sub routes {
    return [
        ['POST', qr{^/dream-machine/v1/generations/video$}, \&create, 'create'],
        ['GET', qr{^/dream-machine/v1/generations/([\w-]+)$}, \&status, 'status'],
        ['DELETE', qr{^/dream-machine/v1/generations/([\w-]+)$}, \&remove,
         'delete'],
        ['GET', qr{^/media/([\w-]+)\.mp4$}, \&media, 'content'],
    ];
}

sub error {
    my ($status, $detail) = @_;
    return [$status, {}, { detail => $detail }];
}

sub fault_body {
    my ($self, $status) = @_;
    return { detail => $status eq '429' ? 'Too many requests'
                                        : 'Internal server error' };
}

sub _is_string {
    my ($req, $k) = @_;
    return $req->{body} =~ /"\Q$k\E"\s*:\s*"/;
}

sub create {
    my ($self, $req) = @_;

    return error(401, 'Invalid API key is provided')
        unless $self->bearer_ok($req);

    my $b = $req->{json};
    return error(400, 'Invalid JSON body') unless ref $b eq 'HASH';

    my %known = map { $_ => 1 } qw(generation_type prompt aspect_ratio loop
        keyframes callback_url model resolution duration concepts);
    for my $k (sort keys %$b) {
        return error(400, "Invalid request: unknown field '$k'")
            unless $known{$k};
    }

    return error(400, 'Invalid request: model is required')
        unless defined $b->{model};
    return error(400, "Invalid request: model '$b->{model}' is not one of "
                 . join(', ', sort keys %MODELS))
        unless $MODELS{$b->{model}};

    return error(400, 'Invalid request: prompt must be a string')
        if exists $b->{prompt} && (ref $b->{prompt} || !_is_string($req, 'prompt'));

    return error(400, "Invalid request: aspect_ratio '$b->{aspect_ratio}' "
                 . 'is not supported')
        if exists $b->{aspect_ratio} && !$ASPECTS{$b->{aspect_ratio} // ''};

    return error(400, "Invalid request: resolution '$b->{resolution}' is "
                 . 'not supported')
        if exists $b->{resolution} && !$RESOLUTIONS{$b->{resolution} // ''};

    if (exists $b->{duration}) {
        return error(400, 'Invalid request: duration must be a string such '
                     . 'as "5s"') unless _is_string($req, 'duration');
        return error(400, "Invalid request: duration '$b->{duration}' is "
                     . 'not supported, use 5s or 9s')
            unless $DURATIONS{$b->{duration}};
    }

    if (exists $b->{keyframes}) {
        my $k = $b->{keyframes};
        return error(400, 'Invalid request: keyframes must be an object')
            unless ref $k eq 'HASH';
        for my $f (sort keys %$k) {
            return error(400, "Invalid request: unknown keyframe '$f'")
                unless $f =~ /^frame[01]$/;
            my $fr = $k->{$f};
            return error(400, "Invalid request: $f.type must be image or "
                         . 'generation')
                unless ref $fr eq 'HASH' && ($fr->{type} // '') =~ /^(image|generation)$/;
            if ($fr->{type} eq 'image') {
                return error(400, "Invalid request: $f.url must be a "
                             . 'publicly accessible https image URL')
                    unless ($fr->{url} // '') =~ m{^https://};
            }
        }
    }

    my $id = sprintf '123e4567-e89b-12d3-a456-%012d', ++$self->{seq};
    my $task = $self->{tasks}{$id} = {
        id => $id, generation_type => 'video', state => 'queued',
        failure_reason => undef, created_at => '2026-01-01T00:00:00.000Z',
        assets => undef, model => $b->{model}, request => $b,
        polls => 0,
        outcome => (($b->{prompt} // '') =~ /\[fail\]/ ? 'fail' : undef),
    };

    return [201, {}, _public($task)];
}

sub _public {
    my ($task) = @_;
    my %v = %$task;
    delete @v{qw(polls outcome)};
    return \%v;
}

sub status {
    my ($self, $req, $id) = @_;

    return error(401, 'Invalid API key is provided')
        unless $self->bearer_ok($req);

    my $task = $self->{tasks}{$id}
        or return error(404, 'Generation not found');

    if ($task->{state} =~ /^(queued|dreaming)$/) {
        my $s = $self->advance($task);
        if ($s eq 'running') {
            $task->{state} = 'dreaming';
            $task->{assets} = { progress_video =>
                                $self->url . "/media/$id-progress.mp4" };
        } elsif ($s eq 'succeed') {
            $task->{state} = 'completed';
            $task->{assets} = { video => $self->url . "/media/$id.mp4",
                                image => $self->url . "/media/$id.jpg" };
        } elsif ($s eq 'fail') {
            $task->{state} = 'failed';
            $task->{failure_reason} = 'Prompt not allowed because it '
                . 'contains a blocked word';
        }
    }

    return [200, {}, _public($task)];
}

sub remove {
    my ($self, $req, $id) = @_;

    return error(401, 'Invalid API key is provided')
        unless $self->bearer_ok($req);

    delete $self->{tasks}{$id} or return error(404, 'Generation not found');
    return [204, { 'Content-Type' => 'text/plain' }, ''];
}

sub media {
    my ($self, $req, $id) = @_;

    my $task = $self->{tasks}{$id};
    return [404, { 'Content-Type' => 'text/plain' }, 'not found']
        unless $task && $task->{state} eq 'completed';

    return [200, { 'Content-Type' => 'video/mp4' },
            "LUMA-MP4-$id-" . ('l' x 2000)];
}

1;
