mkdir -p dir/sub && echo shared > dir/one && ln dir/one dir/two && ln dir/one dir/sub/three
