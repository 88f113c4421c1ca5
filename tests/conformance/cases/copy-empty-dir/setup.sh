mkdir -p emptydir nested/empty
